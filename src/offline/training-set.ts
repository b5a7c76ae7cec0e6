// Point-in-time correct training sets from gold (the offline store's read side): entity rows in, the
// same rows out in the same order with the requested features as they were at each row's
// event_timestamp (point-in-time.ts has the rule). Views are resolved in the registry; only the
// partitions that can qualify and only the columns requested are read. Numeric features may be
// normalized (normalize.ts) with the statistical_features parameters of each value's feature date,
// joined on the matched row's feature_timestamp.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { type Engine, type EngineOptions, type Row, sqlIdent, sqlList, sqlStr, withEngine } from '../engine/duckdb.js';
import { ON_DEMAND, type OnDemandFeature } from '../features/on-demand/decl.js';
import { ON_DEMAND_FEATURES } from '../features/on-demand/index.js';
import { FEATURE_SERVICES } from '../features/services/index.js';
import type { Lake } from '../lake/index.js';
import { assertDate } from '../shared/dates.js';
import { ENTITY_TABLE, type EntitySource, EVENT_TIME, EVENT_TIMESTAMP, type LoadedEntities, loadEntities, ROW_ORDINAL } from './entities.js';
import { TrainingSetInputError } from './errors.js';
import {
  hasParametersSql,
  isNormalizable,
  isNormalizeMethod,
  NORMALIZABLE_TYPES,
  type NormalizeMethod,
  PARAMETER_COLUMNS,
  PARAMETERS_FAMILY,
  unknownMethodMessage,
} from './normalize.js';
import {
  type ComputedColumn,
  createMatchesSql,
  createViewRowsSql,
  FEATURE_TIME_COLUMN,
  MATCH_TABLE,
  matchColumn,
  parametersColumn,
  trainingSetSql,
  type ViewRows,
} from './point-in-time.js';
import { type FeatureRef, type FeatureView, parseFeatureRefs, qualifyingDates, type ReadablePartition, readablePartitions, resolveViews } from './views.js';

/** A declared feature service's refs, as the feature server reads them for {"feature_service": name}. */
function serviceRefs(name: string): readonly string[] {
  const s = FEATURE_SERVICES.find((x) => x.name === name);
  if (!s) throw new TrainingSetInputError(`unknown feature service '${name}' (declared: ${FEATURE_SERVICES.map((x) => x.name).join(', ') || 'none'})`);
  return s.features;
}

export interface HistoricalFeaturesRequest {
  /** Entity rows: a local CSV or Parquet file, or a DuckDB query; key column(s) and event_timestamp, plus any other columns (kept). */
  entities?: EntitySource;
  /** 'family:feature' references (or 'family:feature:method'); or give featureService. */
  features?: readonly string[];
  /** A declared feature service: its refs, with the normalization they carry, instead of features. */
  featureService?: string;
  /** Name output columns 'family__feature' instead of 'feature'. */
  fullFeatureNames?: boolean;
  /** Also require created_timestamp <= event_timestamp: exactly what was servable at that time. */
  asKnownAt?: boolean;
  /** Write the result here (Parquet or CSV by extension) instead of returning it. */
  out?: string;
  /** Without entities: every row of the views with feature dates in [from, to], as entity rows at their feature_timestamp. */
  timeRange?: { from: string; to: string };
  /**
   * Normalize every numeric (BIGINT, DOUBLE) feature with this method, using the statistical_features
   * parameters of each value's feature date (normalize.ts); a ref 'family:feature:method' sets one
   * feature's method, whatever this says.
   */
  normalize?: NormalizeMethod;
  /** The on-demand features 'on_demand:<name>' refs may name (default: the declared ones, src/features/on-demand/). */
  onDemand?: readonly OnDemandFeature[];
}

/** A normalized output column. */
export interface AppliedNormalization {
  column: string;
  /** 'family:feature'. */
  feature: string;
  method: NormalizeMethod;
  /** Rows with a value but no parameters for its (family, feature, date): their normalized value is null. */
  missingParameters: number;
}

export interface HistoricalFeatures {
  rows: number;
  /** The file written, when `out` was given. */
  path?: string;
  seconds: number;
  /** Gold partitions (view and date) read. */
  partitionsRead: number;
  columns: string[];
  /** The rows, when no `out` was given. */
  data?: Row[];
  /** The normalized columns, in output order (empty without normalization). */
  normalization: AppliedNormalization[];
}

// Snappy for training sets: read once or twice by a trainer, and about a third cheaper to write than ZSTD.
const OUTPUT_FORMATS: Record<string, string> = { '.parquet': '(FORMAT parquet, COMPRESSION snappy)', '.csv': '(FORMAT csv, HEADER true)' };

function outputNames(views: readonly FeatureView[], full: boolean, hidden: readonly boolean[][]): string[][] {
  const names = views.map((v, i) => v.features.map((f, j) => (hidden[i]![j] ? `__od_${v.family}__${f.name}` : full ? `${v.family}__${f.name}` : f.name)));
  const seen = new Map<string, string>();
  views.forEach((v, i) =>
    names[i]!.forEach((n, j) => {
      if (hidden[i]![j]) return;
      const other = seen.get(n.toLowerCase());
      if (other)
        throw new TrainingSetInputError(`feature name '${n}' is requested from both ${other} and ${v.family}: use full feature names (family__feature)`);
      seen.set(n.toLowerCase(), v.family);
    }),
  );
  return names;
}

/** The time-range request's entity rows: every distinct (keys, feature_timestamp) of the views' partitions in the range. */
async function loadRangeEntities(
  db: Engine,
  views: readonly FeatureView[],
  parts: readonly ReadablePartition[][],
  reserved: readonly string[],
): Promise<LoadedEntities> {
  const keys = views[0]!.keys.map((k) => k.name);
  for (const v of views) {
    if (v.keys.map((k) => k.name).join(',') !== keys.join(',')) {
      throw new TrainingSetInputError(
        `a time-range retrieval needs views with the same entity keys: ${views[0]!.family} has ${keys.join(', ')}, ${v.family} has ${v.keys.map((k) => k.name).join(', ')}`,
      );
    }
  }
  const clash = reserved.find((r) => [...keys, EVENT_TIMESTAMP].some((c) => c.toLowerCase() === r.toLowerCase()));
  if (clash) throw new TrainingSetInputError(`feature output name '${clash}' is also an entity column: use full feature names (family__feature)`);
  const cols = keys.map(sqlIdent);
  await db.run(
    `CREATE OR REPLACE TEMP TABLE ${ENTITY_TABLE} (${ROW_ORDINAL} BIGINT, ${cols.map((c) => `${c} VARCHAR`).join(', ')}, ${EVENT_TIMESTAMP} TIMESTAMP, ${EVENT_TIME} TIMESTAMP)`,
  );
  const sources = parts
    .filter((p) => p.length > 0)
    .map(
      (p) =>
        `SELECT ${cols.join(', ')}, feature_timestamp FROM read_parquet(${sqlList(p.flatMap((x) => x.files))}, union_by_name = true, hive_partitioning = false)`,
    );
  if (sources.length > 0) {
    await db.run(`INSERT INTO ${ENTITY_TABLE} SELECT row_number() OVER (ORDER BY feature_timestamp, ${cols.join(', ')}) - 1, ${cols.join(', ')}, feature_timestamp, feature_timestamp
      FROM (${sources.join(' UNION ')})`);
  }
  const s = await db.one<{ rows: number; min_us: number | null; max_us: number | null }>(
    `SELECT count(*)::BIGINT AS rows, min(epoch_us(${EVENT_TIME}))::DOUBLE AS min_us, max(epoch_us(${EVENT_TIME}))::DOUBLE AS max_us FROM ${ENTITY_TABLE}`,
  );
  return { columns: [...keys, EVENT_TIMESTAMP], rows: s.rows, minUs: s.min_us, maxUs: s.max_us };
}

/** A date of the time range; a malformed one is the request's fault, not worth a retry. */
function rangeDate(d: string): void {
  try {
    assertDate(d);
  } catch (e) {
    throw new TrainingSetInputError(`time range: ${(e as Error).message}`);
  }
}

/** Writes the result to a temporary file renamed into place, so a reader never sees half a file. */
async function writeOutput(db: Engine, sql: string, out: string): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await db.run('SET preserve_insertion_order = true');
    await db.run(`COPY (${sql}) TO ${sqlStr(tmp)} ${OUTPUT_FORMATS[extname(out).toLowerCase()]!}`);
    await rename(tmp, out);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** A point-in-time correct training set (see the module comment and HistoricalFeaturesRequest). */
export async function getHistoricalFeatures(lake: Lake, engine: EngineOptions, req: HistoricalFeaturesRequest): Promise<HistoricalFeatures> {
  const t0 = performance.now();
  if ((req.entities === undefined) === (req.timeRange === undefined)) throw new TrainingSetInputError('give either entity rows or a time range (not both)');
  if (req.out !== undefined && !OUTPUT_FORMATS[extname(req.out).toLowerCase()])
    throw new TrainingSetInputError(`output ${req.out}: unsupported extension (expected .parquet or .csv)`);
  if (req.timeRange) {
    rangeDate(req.timeRange.from);
    rangeDate(req.timeRange.to);
    if (req.timeRange.from > req.timeRange.to) throw new TrainingSetInputError(`empty time range: ${req.timeRange.from} is after ${req.timeRange.to}`);
  }
  if (req.normalize !== undefined && !isNormalizeMethod(req.normalize)) throw new TrainingSetInputError(unknownMethodMessage(req.normalize));
  if ((req.features === undefined) === (req.featureService === undefined))
    throw new TrainingSetInputError('give either features or a feature service (not both)');
  const allRefs = req.featureService !== undefined ? serviceRefs(req.featureService) : req.features!;
  const onDemand = onDemandRefs(allRefs, req.onDemand ?? ON_DEMAND_FEATURES);
  const requested = parseFeatureRefs(
    allRefs.filter((r) => !r.trim().startsWith(`${ON_DEMAND}:`)),
    onDemand.length > 0,
  );
  // The stored features on-demand features read, not requested themselves: read, not output.
  const hiddenRefs = onDemand
    .flatMap((f) => f.inputs)
    .filter((i, k, all) => all.findIndex((x) => x.family === i.family && x.feature === i.feature) === k)
    .filter((i) => !requested.some((r) => r.family === i.family && r.feature === i.feature))
    .map((i) => ({ family: i.family, feature: i.feature }));
  const refs = [...requested, ...hiddenRefs];
  const views = await resolveViews(lake, refs);
  const hidden = views.map((v) => v.features.map((f) => hiddenRefs.some((h) => h.family === v.family && h.feature === f.name)));
  const methods = normalizations(views, requested, req.normalize).map((m, i) => m.map((x, j) => (hidden[i]![j] ? undefined : x)));
  const parametersView = methods.some((m) => m.some(Boolean)) ? await resolveParametersView(lake) : undefined;
  const names = outputNames(views, req.fullFeatureNames === true, hidden);
  const onDemandNames = onDemand.map((f) => (req.fullFeatureNames === true ? `${ON_DEMAND}__${f.decl.name}` : f.decl.name));
  const outputs = [...names.flatMap((n, i) => n.filter((_, j) => !hidden[i]![j])), ...onDemandNames];
  const clash = outputs.find((n, k) => outputs.findIndex((x) => x.toLowerCase() === n.toLowerCase()) !== k);
  if (clash) throw new TrainingSetInputError(`feature name '${clash}' is requested twice: use full feature names (family__feature)`);
  const asKnownAt = req.asKnownAt === true;
  const read = new Set<string>();
  const statDates = new Map<number, Set<string>>();
  const note = (v: FeatureView, parts: readonly ReadablePartition[]) => parts.forEach((p) => read.add(`${v.family}/${p.date}`));

  return withEngine(engine, async (db) => {
    let entities: LoadedEntities;
    if (req.timeRange) {
      const { from, to } = req.timeRange;
      const parts = await Promise.all(views.map((v) => readablePartitions(lake, v, from, to)));
      views.forEach((v, i) => note(v, parts[i]!));
      entities = await loadRangeEntities(db, views, parts, outputs);
    } else {
      const keysByView = new Map(views.map((v) => [v.family, v.keys.map((k) => k.name)]));
      entities = await loadEntities(db, req.entities!, keysByView, outputs);
    }
    const viewRows: ViewRows[] = [];
    for (const [i, view] of views.entries()) {
      const parts = entities.minUs === null || entities.maxUs === null ? [] : await partitionsFor(lake, view, entities.minUs, entities.maxUs);
      note(view, parts);
      const r: ViewRows = {
        table: `view_${i}`,
        view,
        files: parts.flatMap((p) => p.files),
        unionByName: new Set(parts.map((p) => p.schemaVersion)).size > 1,
        outputNames: names[i]!,
        hidden: hidden[i]!,
      };
      for (const sql of createViewRowsSql(r, asKnownAt)) await db.run(sql);
      if (parametersView && methods[i]!.some(Boolean)) {
        const statParts = parts.length === 0 ? [] : await readablePartitions(lake, parametersView, parts[0]!.date, parts[parts.length - 1]!.date);
        note(parametersView, statParts);
        r.normalize = methods[i]!;
        r.parametersTable = `parameters_${i}`;
        for (const sql of createParametersSql(r, statParts)) await db.run(sql);
        statDates.set(i, new Set(statParts.map((p) => p.date)));
      }
      viewRows.push(r);
    }
    await db.run(createMatchesSql(viewRows, asKnownAt));
    const normalization: AppliedNormalization[] = [];
    for (const [i, r] of viewRows.entries()) {
      if (r.parametersTable) normalization.push(...(await checkParameters(db, r, i, statDates.get(i)!)));
    }
    const sql = trainingSetSql(viewRows, onDemandColumns(onDemand, onDemandNames, views, entities.columns));
    const columns = [...entities.columns, ...outputs];
    const result = { rows: entities.rows, partitionsRead: read.size, columns, normalization };
    if (req.out !== undefined) {
      await writeOutput(db, sql, req.out);
      return { ...result, path: req.out, seconds: (performance.now() - t0) / 1000 };
    }
    const data = await db.all(sql);
    return { ...result, data, seconds: (performance.now() - t0) / 1000 };
  });
}

/** The on-demand features among the refs ('on_demand:<name>'), each once. */
function onDemandRefs(refs: readonly string[], declared: readonly OnDemandFeature[]): OnDemandFeature[] {
  const out: OnDemandFeature[] = [];
  for (const raw of refs) {
    const ref = raw.trim();
    if (!ref.startsWith(`${ON_DEMAND}:`)) continue;
    const name = ref.slice(ON_DEMAND.length + 1);
    const f = declared.find((x) => x.decl.name === name);
    if (!f) throw new TrainingSetInputError(`unknown on-demand feature '${name}' (declared: ${declared.map((x) => x.decl.name).join(', ') || 'none'})`);
    if (out.includes(f)) throw new TrainingSetInputError(`feature reference '${ref}' is listed twice`);
    out.push(f);
  }
  return out;
}

/**
 * The on-demand columns in SQL, over the matched stored values (unnormalized, as the server reads
 * them; null for a row not matched) and the entity rows' columns for request fields; request_time
 * defaults to the row's event_timestamp.
 */
function onDemandColumns(
  features: readonly OnDemandFeature[],
  names: readonly string[],
  views: readonly FeatureView[],
  entityColumns: readonly string[],
): ComputedColumn[] {
  return features.map((f, k) => {
    const col = (name: string): string => {
      const input = f.inputs.find((i) => i.name === name);
      if (input) return `v${views.findIndex((v) => v.family === input.family)}.${sqlIdent(input.feature)}`;
      if (entityColumns.includes(name)) return `m.${sqlIdent(name)}`;
      if (name === 'request_time') return `m.${EVENT_TIME}`;
      throw new TrainingSetInputError(
        `on-demand feature '${f.decl.name}' reads the request field '${name}': the entity rows need a column of that name (columns: ${entityColumns.join(', ')})`,
      );
    };
    return { name: names[k]!, sql: f.sql(col) };
  });
}

/** The view's partitions that can serve entity rows with event times in [minUs, maxUs]. */
async function partitionsFor(lake: Lake, view: FeatureView, minUs: number, maxUs: number): Promise<ReadablePartition[]> {
  const dates = qualifyingDates(view, minUs, maxUs);
  return dates ? readablePartitions(lake, view, dates.from, dates.to) : [];
}

/** Per view, per requested feature: the normalization asked for (its ref's, else the request's for numeric features). */
function normalizations(views: readonly FeatureView[], refs: readonly FeatureRef[], all: NormalizeMethod | undefined): (NormalizeMethod | undefined)[][] {
  return views.map((v) =>
    v.features.map((f) => {
      const own = refs.find((r) => r.family === v.family && r.feature === f.name)?.normalize;
      if (own && !isNormalizable(f.type))
        throw new TrainingSetInputError(
          `cannot normalize ${v.family}:${f.name}: it is ${f.type}, and only numeric features (${NORMALIZABLE_TYPES.join(', ')}) have normalization parameters`,
        );
      return own ?? (all !== undefined && isNormalizable(f.type) ? all : undefined);
    }),
  );
}

/** The registered statistical_features view, with the parameter columns. */
async function resolveParametersView(lake: Lake): Promise<FeatureView> {
  try {
    return (
      await resolveViews(
        lake,
        PARAMETER_COLUMNS.map((c) => ({ family: PARAMETERS_FAMILY, feature: c })),
      )
    )[0]!;
  } catch (e) {
    throw new TrainingSetInputError(
      `normalization reads its parameters from ${PARAMETERS_FAMILY}, which cannot be read in lake ${lake.uri}: ${(e as Error).message}; compute ${PARAMETERS_FAMILY} (the daily pipeline does) for the dates of the training set`,
    );
  }
}

/**
 * The view's normalization parameters as a table: one row per feature_timestamp of a statistical_features
 * partition, with each normalized feature's parameter columns (null where the partition has no row for it).
 */
function createParametersSql(r: ViewRows, parts: readonly ReadablePartition[]): string[] {
  const normalized = r.view.features.flatMap((f, j) => (r.normalize?.[j] ? [{ f, j }] : []));
  const columns = normalized.flatMap(({ j }) => PARAMETER_COLUMNS.map((c) => ({ j, c, name: sqlIdent(parametersColumn(j, c)) })));
  const create = `CREATE OR REPLACE TEMP TABLE ${r.parametersTable!} (${FEATURE_TIME_COLUMN} TIMESTAMP, ${columns.map((c) => `${c.name} DOUBLE`).join(', ')})`;
  const files = parts.flatMap((p) => p.files);
  if (files.length === 0) return [create];
  const select = columns.map(({ j, c, name }) => `any_value(${sqlIdent(c)}::DOUBLE) FILTER (WHERE feature = ${sqlStr(r.view.features[j]!.name)}) AS ${name}`);
  const unionByName = new Set(parts.map((p) => p.schemaVersion)).size > 1;
  return [
    create,
    `INSERT INTO ${r.parametersTable!} SELECT feature_timestamp, ${select.join(', ')}
      FROM read_parquet(${sqlList(files)}, union_by_name = ${unionByName}, hive_partitioning = false)
      WHERE family = ${sqlStr(r.view.family)} GROUP BY feature_timestamp`,
  ];
}

/**
 * Fails when a served value's feature date has no statistical_features partition; counts, per
 * normalized feature, the values without parameters in the partition of their date.
 */
async function checkParameters(db: Engine, r: ViewRows, i: number, statDates: ReadonlySet<string>): Promise<AppliedNormalization[]> {
  const normalized = r.view.features.flatMap((f, j) => (r.normalize?.[j] ? [{ f, j, method: r.normalize[j]! }] : []));
  const from = `${MATCH_TABLE} m JOIN ${r.table} v ON v.rowid = m.${matchColumn(i)} LEFT JOIN ${r.parametersTable!} n ON n.${FEATURE_TIME_COLUMN} = v.${FEATURE_TIME_COLUMN}`;
  const valued = normalized.map(({ f }) => `v.${sqlIdent(f.name)} IS NOT NULL`).join(' OR ');
  const dates = await db.all<{ d: string }>(
    `SELECT DISTINCT strftime(v.${FEATURE_TIME_COLUMN} - INTERVAL 1 DAY, '%Y-%m-%d') AS d FROM ${from} WHERE ${valued} ORDER BY 1`,
  );
  const missing = dates.map((x) => x.d).filter((d) => !statDates.has(d));
  if (missing.length > 0) {
    throw new TrainingSetInputError(
      `normalization parameters of ${r.view.family} are missing: ${PARAMETERS_FAMILY} has no gold partition for feature date(s) ${missing.join(', ')} of the values served; compute ${PARAMETERS_FAMILY} for them (gold backfill), or leave ${r.view.family}'s features unnormalized`,
    );
  }
  const counts = await db.one<Record<string, number>>(
    `SELECT ${normalized
      .map(({ f, j, method }) => {
        const has = hasParametersSql(method, (c) => `n.${sqlIdent(parametersColumn(j, c))}`);
        return `count(*) FILTER (WHERE v.${sqlIdent(f.name)} IS NOT NULL AND NOT ${has})::BIGINT AS c${j}`;
      })
      .join(', ')} FROM ${from}`,
  );
  return normalized.map(({ f, j, method }) => ({
    column: r.outputNames[j]!,
    feature: `${r.view.family}:${f.name}`,
    method,
    missingParameters: Number(counts[`c${j}`] ?? 0),
  }));
}
