import type { Command } from 'commander';
import { type ConsistencyResult, checkFamilyConsistency } from '../../consistency/check.js';
import { engineOptions } from '../../engine/duckdb.js';
import { FAMILIES, family } from '../../features/families/index.js';
import { committedFiles, openLake, paths } from '../../lake/index.js';
import { openOnlineStore } from '../../online/open.js';
import { action, CliError, output, parseDate, parsePositiveInt, settingsFrom } from '../context.js';

function render(rs: ConsistencyResult[]): string {
  if (rs.length === 0) return 'no committed gold of an online family for that date';
  return rs
    .map((r) =>
      r.expired
        ? `${r.family.padEnd(22)} older than its TTL: not served online, nothing to compare`
        : `${r.family.padEnd(22)} ${r.checked} checked, ${r.matched} match, ${r.mismatched} mismatch (${(r.mismatchShare * 100).toFixed(2)}%), ${r.missing} missing, ${r.extra} extra, ${r.newerOnline} newer online` +
          r.samples.map((x) => `\n    ${x.entityKey} ${x.feature}: gold ${JSON.stringify(x.gold)} online ${JSON.stringify(x.online)}`).join(''),
    )
    .join('\n');
}

export function registerConsistency(program: Command): void {
  program
    .command('consistency')
    .description('compare the online store with the committed gold of a date: mismatches (count and share), missing and extra; exits 1 when they differ')
    .requiredOption('--date <date>', 'feature date (YYYY-MM-DD)', parseDate)
    .option('--families <list>', 'comma-separated families (default: every online family with gold for the date)', (v: string) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .option('--sample <n>', 'compare a random sample of this many entities per family instead of all', parsePositiveInt('--sample'))
    .action(
      action(async (opts: { date: string; families?: string[]; sample?: number }, cmd: Command) => {
        const s = settingsFrom(cmd);
        const lake = openLake(s.lake, s);
        const store = openOnlineStore(s.onlineStore, s.home);
        try {
          const named = opts.families?.map((f) => family(f).name);
          const results: ConsistencyResult[] = [];
          for (const name of named ?? FAMILIES.map((f) => f.name)) {
            if (!(await committedFiles(lake, paths.gold(name, opts.date)))) {
              if (named) throw new CliError(`no committed gold for ${name} ${opts.date}`);
              continue;
            }
            const r = await checkFamilyConsistency(lake, store, engineOptions(s), { family: name, date: opts.date, sample: opts.sample });
            if (r) results.push(r);
          }
          output(cmd, results, () => render(results));
          if (results.some((r) => r.mismatched > 0 || r.missing > 0 || r.extra > 0)) process.exitCode = 1;
        } finally {
          await store.close();
          await lake.close();
        }
      }),
    );
}
