// Human renderings of run reports for the CLI.
import type { Settings } from '../config/settings.js';
import { readState, uiPortFor } from '../dev/stack.js';
import type { BackfillProgress, DailyReport } from '../pipeline/types.js';
import { webUiUrl } from '../temporal/connection.js';

export function uiLink(s: Settings, workflowId?: string): string {
  const base = s.temporalUi;
  if (base)
    return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(s.temporalNamespace)}/workflows${workflowId ? `/${encodeURIComponent(workflowId)}` : ''}`;
  return webUiUrl(readState(s).temporal?.uiPort ?? uiPortFor(s.temporalAddress), s.temporalNamespace, workflowId);
}

export function renderDailyReport(r: DailyReport): string {
  const lines = [
    `gold ${r.runKind} ${r.date}: ${r.status.toUpperCase()} in ${(((r.finishedAt ?? r.startedAt) - r.startedAt) / 1000).toFixed(1)} s (run ${r.runId})`,
  ];
  for (const s of r.steps) {
    const what = `${s.step}${s.family ? ` ${s.family}` : ''}`.padEnd(34);
    const rows = s.rows !== undefined ? `${s.rows} rows` : '';
    const q = s.qualityScore !== undefined ? ` quality ${s.qualityScore.toFixed(3)}` : '';
    lines.push(
      `  ${s.status.padEnd(9)} ${what} ${(s.seconds ?? 0).toFixed(2).padStart(7)} s  x${s.attempts}  ${rows}${q}${s.error ? `  error: ${s.error}` : s.detail ? `  ${s.detail}` : ''}`,
    );
  }
  if (r.dlqEntries.length) lines.push(`  DLQ entries: ${r.dlqEntries.join(', ')} (gold dlq show <id>)`);
  for (const m of r.slaMisses) lines.push(`  SLA missed (${m.kind}): ${m.detail}`);
  return lines.join('\n');
}

export function renderBackfill(p: BackfillProgress): string {
  const by = (st: string) => p.results.filter((r) => r.status === st).length;
  const lines = [
    `backfill: ${p.results.length}/${p.total} dates finished: ${by('succeeded')} succeeded, ${by('skipped')} skipped, ${by('partial')} partial, ${by('failed')} failed${p.cancelled ? ' (cancelled)' : ''}`,
  ];
  for (const r of p.results.filter((x) => x.status === 'failed' || x.status === 'partial'))
    lines.push(`  ${r.date} ${r.status}${r.detail ? `: ${r.detail}` : ''}`);
  return lines.join('\n');
}
