// The report page: one self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched), made
// to be looked at: scores and failures first, then each family's drift and feature histograms.
import { type CheckResult, describeFilling, type FeatureMetrics, type ValidationReport } from '../../quality/report.js';
import type { DateReport, FamilySection } from './data.js';
import { COLORS, esc, histogramSvg, psiBarsSvg, sparklineSvg } from './svg.js';

const CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#101828;background:#f5f6f8}
main{max-width:1240px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:26px;margin:0}h1 span{color:#667085;font-weight:500}h2{font-size:19px;margin:0}h3{font-size:14px;margin:18px 0 8px;color:#344054;text-transform:uppercase;letter-spacing:.04em}
.meta{color:#667085;margin:4px 0 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-bottom:20px}
.kpi{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px #1018280f,0 0 0 1px #eaecf0}.kpi b{display:block;font-size:26px}.kpi span{color:#667085}
.kpi b.t-warn{color:#b07500}.kpi b.t-error{color:#c23030}
section{background:#fff;border-radius:12px;padding:18px 20px;margin:16px 0;box-shadow:0 1px 2px #1018280f,0 0 0 1px #eaecf0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eaecf0;vertical-align:middle}th{color:#667085;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 9px;border-radius:99px;font-size:12px;font-weight:600}
.ok{background:#e3f4ea;color:#1c6e3f}.warn{background:#fdf1cf;color:#8a5a00}.error{background:#fbe0e0;color:#9b2323}.none{background:#eef0f3;color:#475467}
.fam-head{display:flex;align-items:center;gap:14px;flex-wrap:wrap}.fam-head .sub{color:#667085}
.score{font-size:22px;font-weight:700;padding:2px 12px;border-radius:8px}.score.small{font-size:14px;padding:1px 8px}
.desc{color:#475467;margin:6px 0 0}
.checks td:first-child{white-space:nowrap}details{margin-top:2px}summary{cursor:pointer;color:#3b6fd8}pre{margin:4px 0;background:#f5f6f8;padding:6px 8px;border-radius:6px;font-size:12px;white-space:pre-wrap;word-break:break-all}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.feat{border:1px solid #eaecf0;border-radius:10px;padding:10px 12px}.feat-head{display:flex;justify-content:space-between;align-items:baseline;gap:8px}
.feat-head b{overflow-wrap:anywhere}.type{color:#98a2b3;font-size:11px;margin-left:6px}.stats{color:#475467;font-size:12px}
.legend{color:#475467;font-size:12px;margin:-2px 0 8px}.sw{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
svg .ax{font-size:10px;fill:${COLORS.text}}svg .lbl{font-size:12px;fill:#101828}
.notes{color:#667085;font-size:12px;margin:10px 0 0;padding-left:18px}
.missing{color:#9b2323;font-size:12px;padding:40px 0;text-align:center}.none-chart{color:#667085}
`;

const pct = (x: number | undefined, digits = 1) => (x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`);
const num = (x: number | undefined, digits = 3) =>
  x === undefined ? '–' : Number(x.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: digits });
const level = (score: number) => (score >= 0.9 ? 'ok' : score >= 0.7 ? 'warn' : 'error');

function scoreBadge(score: number | undefined, small = false): string {
  const cls = `score${small ? ' small' : ''}`;
  return score === undefined ? `<span class="${cls} none">–</span>` : `<span class="${cls} ${level(score)}" title="quality score">${score.toFixed(3)}</span>`;
}

function statusBadge(v: ValidationReport | undefined): string {
  if (!v) return '<span class="badge none">not validated</span>';
  if (!v.passed) return `<span class="badge error">failed · ${v.failed.length}</span>`;
  return v.warned.length
    ? `<span class="badge warn">passed · ${v.warned.length} warning${v.warned.length > 1 ? 's' : ''}</span>`
    : '<span class="badge ok">passed</span>';
}

function summary(r: DateReport): string {
  const validated = r.families.filter((f) => f.validation);
  const failed = validated.filter((f) => !f.validation!.passed).length;
  const mean = validated.length ? validated.reduce((a, f) => a + f.validation!.score, 0) / validated.length : undefined;
  const open = r.dlq.filter((e) => e.status === 'open').length;
  const stale = r.families.filter((f) => !f.freshness.fresh).length;
  const kpi = (value: string, label: string, cls = '') => `<div class="kpi"><b class="${cls ? `t-${cls}` : ''}">${value}</b><span>${label}</span></div>`;
  return `<div class="cards">
    ${kpi(`${validated.length - failed}/${validated.length}`, 'families passed validation', failed ? 'error' : '')}
    ${kpi(mean === undefined ? '–' : mean.toFixed(3), 'mean quality score')}
    ${kpi(String(stale), 'views not fresh for this date', stale ? 'error' : '')}
    ${kpi(String(r.alerts.length), 'alerts', r.alerts.length ? 'warn' : '')}
    ${kpi(String(open), 'open DLQ entries', open ? 'error' : '')}
  </div>`;
}

function freshnessTable(r: DateReport): string {
  const rows = r.families.map((f) => {
    const fr = f.freshness;
    const lag =
      fr.lagDays === undefined
        ? '<span class="badge error">no gold</span>'
        : fr.lagDays === 0
          ? '<span class="badge ok">fresh</span>'
          : `<span class="badge error">${fr.lagDays} day${fr.lagDays > 1 ? 's' : ''} behind</span>`;
    const c = f.completeness;
    const name = f.validation ? `<a href="#f-${esc(f.family)}">${esc(f.family)}</a>` : esc(f.family);
    return `<tr><td>${name}</td><td>${esc(fr.latestDate ?? '–')}</td><td>${lag}</td>
      <td class="num">${f.validation ? f.validation.rows.toLocaleString('en-US') : '–'}</td><td class="num">${c.ratio === undefined ? '–' : pct(c.ratio, 0)}</td>
      <td>${sparklineSvg(f.history.map((p) => p.rows))}</td><td>${scoreBadge(f.validation?.score)}</td><td>${sparklineSvg(
        f.history.map((p) => p.score),
        120,
        28,
        COLORS.ok,
      )}</td><td>${statusBadge(f.validation)}</td></tr>`;
  });
  return `<section><h2>Views</h2><h3>Freshness, completeness and quality</h3><table>
    <tr><th>view</th><th>latest gold</th><th>freshness</th><th>rows</th><th>vs recent avg</th><th>rows trend</th><th>score</th><th>score trend</th><th>validation</th></tr>
    ${rows.join('')}</table></section>`;
}

function alertsSection(r: DateReport): string {
  if (r.alerts.length === 0) return '';
  return `<section><h2>Alerts</h2><table class="checks"><tr><th>severity</th><th>kind</th><th>what</th></tr>${r.alerts
    .map((a) => `<tr><td><span class="badge ${a.severity}">${a.severity}</span></td><td>${esc(a.kind)}</td><td>${esc(a.message)}</td></tr>`)
    .join('')}</table></section>`;
}

function runsSection(r: DateReport): string {
  if (r.runs.length === 0) return '';
  const rows = r.runs.map((run) => {
    const seconds = run.finishedAt ? ((run.finishedAt - run.startedAt) / 1000).toFixed(1) : '–';
    const failed = run.steps.filter((s) => s.status === 'failed');
    const cls = run.status === 'succeeded' ? 'ok' : run.status === 'partial' ? 'warn' : 'error';
    return `<tr><td>${esc(run.runId)}</td><td>${esc(run.runKind)}</td><td><span class="badge ${cls}">${esc(run.status)}</span></td><td>${esc(new Date(run.startedAt).toISOString().slice(0, 19))}Z</td>
      <td class="num">${seconds} s</td><td>${esc(run.familiesLanded.join(', ') || '–')}${run.accepted ? `<br><span class="badge warn">accepted</span> ${esc(`${run.accepted.family} landed as it was staged, by ${run.accepted.acceptedBy}: ${run.accepted.reason}`)}` : ''}</td><td>${failed.map((s) => esc(`${s.step}${s.family ? ` ${s.family}` : ''}: ${s.error ?? ''}`)).join('<br>') || '–'}</td></tr>`;
  });
  return `<section><h2>Runs</h2><table><tr><th>run</th><th>kind</th><th>status</th><th>started</th><th>took</th><th>landed</th><th>failed steps</th></tr>${rows.join('')}</table></section>`;
}

function checkRows(checks: readonly CheckResult[]): string {
  return checks
    .map((c) => {
      const sample = c.sample?.length
        ? `<details><summary>${c.sample.length} sample row${c.sample.length > 1 ? 's' : ''}</summary><pre>${esc(c.sample.map((s) => JSON.stringify(s)).join('\n'))}</pre></details>`
        : '';
      return `<tr><td><span class="badge ${c.severity}">${c.quarantined ? 'quarantined' : c.severity}</span></td><td>${esc(c.check)}</td><td>${esc(c.feature ?? c.rule ?? '')}</td><td>${esc(c.message)}${sample}</td></tr>`;
    })
    .join('');
}

function featureCard(x: FeatureMetrics): string {
  const stats: string[] = [`null ${pct(x.nullShare)}`];
  if (x.outlierShare !== undefined) stats.push(`outliers ${pct(x.outlierShare)}`);
  if (x.psi !== undefined) stats.push(`PSI ${num(x.psi)}`);
  if (x.ks !== undefined) stats.push(`KS ${num(x.ks)}`);
  if (x.js !== undefined) stats.push(`JS ${num(x.js)}`);
  if (x.mean !== undefined) stats.push(`mean ${num(x.mean)}${x.referenceMean !== undefined ? ` (ref ${num(x.referenceMean)})` : ''}`);
  if (x.distinct !== undefined) stats.push(`${x.distinct.toLocaleString('en-US')} distinct`);
  const chart = x.missing
    ? '<div class="missing">missing from the partition, or of another type</div>'
    : x.histogram
      ? histogramSvg(x.histogram, x.name)
      : '<div class="missing none-chart">no histogram for this type</div>';
  return `<div class="feat"><div class="feat-head"><div><b>${esc(x.name)}</b><span class="type">${esc(x.type)}</span></div>${scoreBadge(x.score, true)}</div>${chart}<div class="stats">${stats.join(' · ')}</div></div>`;
}

function familySection(f: FamilySection & { validation: ValidationReport }): string {
  const v = f.validation;
  const head = `<div class="fam-head"><h2>${esc(f.family)}</h2>${scoreBadge(v?.score)}${statusBadge(v)}${
    v
      ? `${describeFilling(v) ? `<span class="badge none">${esc(describeFilling(v)!)}</span>` : ''}<span class="sub">${v.rows.toLocaleString('en-US')} rows · ${v.checksRun} checks · reference ${v.reference.dates.length ? `${esc(v.reference.dates.at(-1)!)} … ${esc(v.reference.dates[0]!)}${v.reference.kind === 'same_weekday' ? ' (same weekday)' : ''}` : 'none'}${v.runId ? ` · run ${esc(v.runId)}` : ''}</span>`
      : ''
  }</div>${f.description ? `<p class="desc">${esc(f.description)}</p>` : ''}`;
  const checks = [...v.failed, ...v.warned];
  const psiRows = v.features.filter((x) => x.psi !== undefined).map((x) => ({ feature: x.name, psi: x.psi! }));
  const psi = v.thresholds.psi;
  return `<section class="family" id="f-${esc(f.family)}">${head}
    ${checks.length ? `<h3>Failed and warned checks</h3><table class="checks"><tr><th>severity</th><th>check</th><th>feature</th><th>what</th></tr>${checkRows(checks)}</table>` : '<h3>Checks</h3><p class="stats">All checks passed.</p>'}
    ${v.quarantine ? `<p class="stats"><span class="badge warn">quarantine</span> ${v.quarantine.rows.toLocaleString('en-US')} rows moved to <code>${esc(v.quarantine.path)}</code>; the rest staged at <code>${esc(v.quarantine.stagingPath)}</code></p>` : ''}
    ${psiRows.length ? `<h3>Drift: PSI per feature</h3>${psiBarsSvg(f.family, psiRows, psi.warn ?? psi.error ?? 0.1, psi.error ?? psi.warn ?? 0.2)}` : ''}
    <h3>Features</h3><div class="legend"><span class="sw" style="background:${COLORS.current};opacity:.75"></span>this date<span class="sw" style="background:${COLORS.reference};height:3px"></span>reference (${v.reference.dates.length} previous dates)</div>
    <div class="grid">${v.features.map(featureCard).join('')}</div>
    ${v.notes.length ? `<ul class="notes">${v.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
  </section>`;
}

function dlqSection(r: DateReport): string {
  if (r.dlq.length === 0) return '';
  return `<section><h2>Dead-letter queue</h2><table class="checks"><tr><th>status</th><th>entry</th><th>reason</th><th>error</th></tr>${r.dlq
    .map(
      (e) =>
        `<tr><td><span class="badge ${e.status === 'open' ? 'error' : 'ok'}">${e.status}</span></td><td>${esc(e.id)}</td><td>${esc(e.reason)}</td><td>${esc(e.error)}</td></tr>`,
    )
    .join('')}</table></section>`;
}

export function renderReportHtml(r: DateReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>gold quality report ${esc(r.date)}</title><style>${CSS}</style></head>
<body><main>
<h1>Feature quality <span>· ${esc(r.date)}</span></h1>
<p class="meta">generated ${esc(r.generatedAt.slice(0, 19).replace('T', ' '))} UTC from ${esc(r.lake)}</p>
${summary(r)}
${freshnessTable(r)}
${alertsSection(r)}
${runsSection(r)}
${r.families
  .filter((f): f is FamilySection & { validation: ValidationReport } => f.validation !== undefined)
  .map(familySection)
  .join('\n')}
${dlqSection(r)}
</main></body></html>
`;
}
