// The feature server's normalization parameters: the statistical_features gold partition of a feature
// date, read from the lake through DuckDB (one small Parquet file: a row per numeric feature), the
// same bytes the training sets read. Why not the online store: it keeps only the latest row of each
// (family, feature), of the newest date, while a served value may be of an older date (an entity not
// seen since); its own date's parameters are needed for the value to equal the training set's.
//
// Cached per date (at most `maxDates`, least recently used out); an entry is trusted for `recheckMs`,
// then the partition's manifest is read again, and the file re-read only if the commit changed (a
// restated date). An absent partition is remembered for `recheckMs` too.
import { type EngineOptions, sqlList, withEngine } from '../engine/duckdb.js';
import { type Lake, paths, readManifest } from '../lake/index.js';
import { localFiles } from '../offline/lake-files.js';
import { type NormalizationParameters, PARAMETER_COLUMNS, PARAMETERS_FAMILY } from '../offline/normalize.js';
import type { NormalizationSource } from './online-features.js';

type Parameters = ReadonlyMap<string, NormalizationParameters>;

interface Entry {
  commitId: string | null;
  checkedAt: number;
  parameters: Parameters | null;
}

export interface LakeNormalizationOptions {
  /** Dates kept in memory (default 64). */
  maxDates?: number;
  /** How long a date's entry is used before its commit is checked again (default 30 s). */
  recheckMs?: number;
  /** For tests. */
  now?: () => number;
}

export class LakeNormalizationSource implements NormalizationSource {
  private readonly cache = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Parameters | null>>();
  private readonly maxDates: number;
  private readonly recheckMs: number;
  private readonly now: () => number;
  /** Partition reads done (for tests: a cached date costs none). */
  reads = 0;

  constructor(
    private readonly lake: Lake,
    private readonly engine: EngineOptions,
    opts: LakeNormalizationOptions = {},
  ) {
    this.maxDates = opts.maxDates ?? 64;
    this.recheckMs = opts.recheckMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  parameters(date: string): Promise<Parameters | null> {
    const entry = this.cache.get(date);
    if (entry && this.now() - entry.checkedAt < this.recheckMs) {
      this.cache.delete(date);
      this.cache.set(date, entry); // most recently used last
      return Promise.resolve(entry.parameters);
    }
    let p = this.loading.get(date);
    if (!p) {
      p = this.load(date, entry).finally(() => this.loading.delete(date));
      this.loading.set(date, p);
    }
    return p;
  }

  private async load(date: string, previous: Entry | undefined): Promise<Parameters | null> {
    const checkedAt = this.now();
    const prefix = paths.gold(PARAMETERS_FAMILY, date);
    const manifest = await readManifest(this.lake, prefix);
    const commitId = manifest?.commitId ?? null;
    let parameters: Parameters | null = null;
    if (previous && previous.commitId === commitId) parameters = previous.parameters;
    else if (manifest) parameters = await this.read(manifest.files.map((f) => paths.join(prefix, f.name)));
    this.cache.delete(date);
    this.cache.set(date, { commitId, checkedAt, parameters });
    while (this.cache.size > this.maxDates) this.cache.delete(this.cache.keys().next().value!);
    return parameters;
  }

  private async read(keys: string[]): Promise<Parameters> {
    this.reads++;
    const files = await localFiles(this.lake, keys);
    const rows = await withEngine(this.engine, (db) =>
      db.all<Record<string, unknown>>(
        `SELECT family, feature, ${PARAMETER_COLUMNS.map((c) => `"${c}"::DOUBLE AS "${c}"`).join(', ')} FROM read_parquet(${sqlList(files)}, union_by_name = true, hive_partitioning = false)`,
      ),
    );
    return new Map(
      rows.map((r) => [
        `${r.family as string}:${r.feature as string}`,
        Object.fromEntries(PARAMETER_COLUMNS.map((c) => [c, r[c] as number | null])) as NormalizationParameters,
      ]),
    );
  }
}
