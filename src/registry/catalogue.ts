// The feature catalogue: every family and every feature, with its window, type, range and meaning, the
// columns statistical_features also describes, the on-demand features, and every feature service with
// its features, rendered from the declarations into docs/features.md (`gold registry catalogue --out`),
// so that the documentation cannot drift from the code (a test compares the two).
import type { OnDemandFeatureDecl } from '../features/on-demand/decl.js';
import type { FeatureServiceDecl } from '../features/services/types.js';
import { STATISTICS } from '../features/statistics/index.js';
import { CUMULATIVE, type FamilyDecl, type FeatureDecl, type StatisticsDecl } from '../features/types.js';

const DAY = 86_400;

function ttl(seconds: number): string {
  return seconds % DAY === 0 ? `${seconds / DAY} d` : `${seconds} s`;
}

/** Days of silver a feature covers, or all history for the ones that grow with it (their drift checks are off for that reason). */
function windowOf(fam: FamilyDecl, f: FeatureDecl): string {
  if (f.severity === CUMULATIVE) return 'all history';
  const days = f.windowDays ?? fam.windowDays;
  return days === undefined ? '' : `${days} d`;
}

function rangeOf(f: FeatureDecl): string {
  if (f.allowed) return f.allowed.map((v) => `\`${v}\``).join(', ');
  if (f.min === undefined && f.max === undefined) return '';
  return `${f.min ?? '-∞'} .. ${f.max ?? '∞'}`;
}

/** Table cells hold no pipes or line breaks. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** A service's refs with each feature's type and meaning, and its normalization. */
function renderService(svc: FeatureServiceDecl, families: readonly FamilyDecl[], onDemand: readonly OnDemandFeatureDecl[]): string[] {
  return [
    '',
    `### ${svc.name}`,
    '',
    cell(svc.description),
    '',
    `Version ${svc.version}; owner ${svc.owner}; ${svc.features.length} features.`,
    '',
    '| feature | type | normalization | meaning |',
    '| --- | --- | --- | --- |',
    ...svc.features.map((ref) => {
      const [fam, name, method] = ref.split(':') as [string, string, string | undefined];
      const od = fam === 'on_demand' ? onDemand.find((x) => x.name === name) : undefined;
      if (od) return `| [on_demand](#on-demand-features)\`:${name}\` | ${od.type} | | ${cell(od.description)} |`;
      const f = families.find((x) => x.name === fam)?.features.find((x) => x.name === name);
      return `| [${fam}](#${fam})\`:${name}\` | ${f?.type ?? ''} | ${method ?? ''} | ${cell(f?.description ?? '')} |`;
    }),
  ];
}

export function renderCatalogue(
  families: readonly FamilyDecl[],
  services: readonly FeatureServiceDecl[] = [],
  onDemand: readonly OnDemandFeatureDecl[] = [],
  statistics: readonly StatisticsDecl[] = STATISTICS,
): string {
  const out = [
    '# Feature catalogue',
    '',
    '<!-- Generated from the family and feature service declarations (src/features/families/, src/features/services/) by `gold registry catalogue --out docs/features.md`; a test fails when it differs. Do not edit by hand. -->',
    '',
    `${families.length} families, ${families.reduce((n, f) => n + f.features.length, 0)} features. A feature of date D uses only events before as_of(D) = D + 1 day, 00:00 UTC; its window is the days of silver, ending at D, it needs before its values are complete (what validation knows of it: a window still filling is not drift), or all history for values that grow with it.`,
    '',
    '| family | entity | keys | features | TTL | depends on |',
    '| --- | --- | --- | --- | --- | --- |',
    ...families.map(
      (f) =>
        `| [${f.name}](#${f.name}) | ${f.entity} | ${f.keys.map((k) => `\`${k.name}\``).join(', ')} | ${f.features.length} | ${ttl(f.ttlSeconds)} | ${f.dependsOn.join(', ')} |`,
    ),
  ];
  for (const fam of families) {
    out.push(
      '',
      `## ${fam.name}`,
      '',
      cell(fam.description),
      '',
      `Entity ${fam.entity}, keys ${fam.keys.map((k) => `\`${k.name}\``).join(', ')}; TTL ${ttl(fam.ttlSeconds)}; owner ${fam.owner}; declaration version ${fam.version}${fam.online === false ? '; offline only' : ''}.`,
      '',
      '| feature | type | window | range | nullable | meaning |',
      '| --- | --- | --- | --- | --- | --- |',
      ...fam.features.map((f) => `| \`${f.name}\` | ${f.type} | ${windowOf(fam, f)} | ${rangeOf(f)} | ${f.nullable ? 'yes' : ''} | ${cell(f.description)} |`),
    );
    if (fam.rules?.length) out.push('', 'Rules every row holds:', '', ...fam.rules.map((r) => `- \`${r.name}\`: ${cell(r.description)}`));
    const declared = statistics.filter((d) => fam.dependsOn.includes(d.family)).flatMap((d) => d.columns.map((c) => ({ family: d.family, ...c })));
    if (fam.name === 'statistical_features' && declared.length)
      out.push(
        '',
        'Columns it also describes, declared in `src/features/statistics/` (rows keyed by family and column name):',
        '',
        '| family | column | SQL | meaning |',
        '| --- | --- | --- | --- |',
        ...declared.map((c) => `| ${c.family} | \`${c.name}\` | \`${cell(c.sql)}\` | ${cell(c.description)} |`),
      );
  }
  if (services.length > 0) {
    out.push(
      '',
      '## Feature services',
      '',
      `${services.length} feature services (src/features/services/): named, versioned lists of features a model reads, served by \`{"feature_service": name}\` and written by \`gold training-set --feature-service name\`, normalized as listed.`,
      '',
      '| service | version | owner | features |',
      '| --- | --- | --- | --- |',
      ...services.map((s) => `| [${s.name}](#${s.name}) | ${s.version} | ${s.owner} | ${s.features.length} |`),
    );
    for (const svc of services) out.push(...renderService(svc, families, onDemand));
  }
  if (onDemand.length > 0) {
    out.push(
      '',
      '## On-demand features',
      '',
      `${onDemand.length} on-demand features (src/features/on-demand/, [on-demand](on-demand.md)): computed when asked for, by the feature server in JavaScript and by training sets in SQL, from one expression; requested as \`on_demand:<name>\`.`,
      '',
      '| feature | type | request fields | stored inputs | expression | meaning |',
      '| --- | --- | --- | --- | --- | --- |',
      ...onDemand.map(
        (f) =>
          `| \`${f.name}\` | ${f.type} | ${Object.entries(f.request ?? {})
            .map(([n, t]) => `\`${n}\` ${t}`)
            .join(', ')} | ${Object.entries(f.inputs ?? {})
            .map(([n, r]) => `\`${n}\` = ${r}`)
            .join(', ')} | \`${cell(f.expr)}\` | ${cell(f.description)} |`,
      ),
    );
  }
  return `${out.join('\n')}\n`;
}
