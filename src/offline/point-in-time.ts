// The point-in-time join as SQL (../shared/spec/features.md, Time): for each entity row at time t and
// each view, the row of the entity with the greatest feature_timestamp <= t (ties: the later
// created_timestamp), if t - feature_timestamp <= ttl; otherwise nulls. One DuckDB ASOF JOIN per view,
// over the view's rows first narrowed to the entities and times that can use them.
//
// Ties are broken inside the ASOF ordering itself: rows are ordered by (feature_timestamp,
// created_timestamp) packed into one HUGEINT, and an entity row at t matches up to (t, any created).
// Internal columns of the tables holding entity rows start with INTERNAL_PREFIX, which input columns
// may not. The view tables' other columns are registry names, never '__'-prefixed nor 'rowid' (the
// view rows are identified by DuckDB's rowid, which a column of that name would hide).
//
// As known at t, a row is also required to have been created by t. The row then served for an entity
// changes only when a row becomes visible (at greatest(feature_timestamp, created_timestamp)) and
// beats every row visible before it, so the view keeps only those rows ("take-overs") and the ASOF join
// runs on visibility time.
import { sqlIdent, sqlList } from '../engine/duckdb.js';
import { ENTITY_TABLE, EVENT_TIME, INTERNAL_PREFIX, ROW_ORDINAL } from './entities.js';
import { type NormalizeMethod, normalizeSql, type ParameterColumn } from './normalize.js';
import type { FeatureView } from './views.js';

export interface ViewRows {
  /** The temp table holding the view's narrowed rows. */
  table: string;
  view: FeatureView;
  /** Local Parquet files of the partitions read. */
  files: string[];
  /** The partitions have different (compatible) schema versions: match columns by name. */
  unionByName: boolean;
  /** Output column name of each requested feature, in order. */
  outputNames: string[];
  /** Per requested feature, the normalization applied (undefined: none); with `parametersTable`. */
  normalize?: (NormalizeMethod | undefined)[];
  /** The temp table of normalization parameters by feature_timestamp (parametersColumn names its columns). */
  parametersTable?: string;
  /** Per requested feature, whether it is read only as an input of on-demand features (not output). */
  hidden?: boolean[];
}

/** A computed output column: a SQL expression over `v<i>.<feature>` (the matched view rows) and `m.<entity column>`. */
export interface ComputedColumn {
  name: string;
  sql: string;
}

/** The column of the parameters table holding parameter `c` of the view's j-th requested feature. */
export function parametersColumn(j: number, c: ParameterColumn): string {
  return `f${j}_${c}`;
}

/** The column of view rows holding a row's feature_timestamp. */
export const FEATURE_TIME_COLUMN = '__ft';

const ORDER = '__order';
const FEATURE_TIME = FEATURE_TIME_COLUMN;
const VISIBLE = '__visible';
/**
 * 2^64, the weight of the high half of an ORDER value. A multiplication, not a shift: DuckDB refuses to
 * shift a negative number (a time before 1970), and multiplying keeps the order of negatives too.
 */
const HIGH = '18446744073709551616::HUGEINT';
/** The largest low half of an ORDER value: an entity row at t matches rows of any created_timestamp. */
const MAX_LOW = '18446744073709551615';

/** A time in epoch microseconds as the high half of an ORDER value. */
function high(time: string): string {
  return `epoch_us(${time})::HUGEINT * ${HIGH}`;
}

/** (feature_timestamp, created_timestamp) as one HUGEINT that sorts like the pair. */
function orderExpr(alias: string): string {
  return `${high(`${alias}.feature_timestamp`)} + coalesce(epoch_us(${alias}.created_timestamp)::HUGEINT + 9223372036854775808, 0)`;
}

function ttlMicros(v: FeatureView): number {
  return Math.round(v.ttlSeconds * 1e6);
}

const DAY_US = 86_400_000_000;
/** Views with a TTL up to this many days are narrowed with exact (key, feature day) pairs. */
const MAX_PAIR_DAYS = 7;

/**
 * The first narrowing of a view's rows, a hash join the Parquet scan streams through (before the ASOF
 * join, which sorts its inputs). With a short TTL: the (key, feature_timestamp) pairs some entity row
 * can use, every daily as_of in [t - ttl, t] (gold rows of date D carry as_of(D), a midnight). With a
 * long one, where that would be many pairs per row: per key, the window [min t - ttl, max t].
 * Keys are compared by hash here; the ASOF join compares the keys themselves.
 */
function narrowingJoin(v: FeatureView): string {
  const keys = v.keys.map((k) => `${sqlIdent(k.name)}::VARCHAR`);
  const gold = `hash(${v.keys.map((k) => `g.${sqlIdent(k.name)}`).join(', ')})`;
  const known = `${ENTITY_TABLE} WHERE ${keys.map((k) => `${k} IS NOT NULL`).join(' AND ')}`;
  const ttl = ttlMicros(v);
  if (ttl <= MAX_PAIR_DAYS * DAY_US) {
    return `JOIN (SELECT DISTINCT __h, make_timestamp(__day * ${DAY_US}) AS __ft FROM (
        SELECT hash(${keys.join(', ')}) AS __h,
          unnest(range(ceil((epoch_us(${EVENT_TIME}) - ${ttl}) / ${DAY_US})::BIGINT, floor(epoch_us(${EVENT_TIME}) / ${DAY_US})::BIGINT + 1)) AS __day
        FROM ${known})) w ON ${gold} = w.__h AND g.feature_timestamp = w.__ft`;
  }
  return `JOIN (SELECT hash(${keys.join(', ')}) AS __h, min(${EVENT_TIME}) - to_microseconds(${ttl}) AS __lo, max(${EVENT_TIME}) AS __hi
      FROM ${known} GROUP BY 1) w ON ${gold} = w.__h AND g.feature_timestamp BETWEEN w.__lo AND w.__hi`;
}

/** Statements creating the table of the view's rows that can be served to the entity rows. */
export function createViewRowsSql(r: ViewRows, asKnownAt: boolean): string[] {
  const keys = r.view.keys.map((k) => sqlIdent(k.name));
  const features = r.view.features.map((f) => `${sqlIdent(f.name)} ${f.type}`);
  const timeColumns = asKnownAt ? [`${FEATURE_TIME} TIMESTAMP`, `${VISIBLE} TIMESTAMP`] : [`${FEATURE_TIME} TIMESTAMP`, `${ORDER} HUGEINT`];
  // Typed from the registry, so that a view with no partition to read still gives typed null columns.
  const create = `CREATE OR REPLACE TEMP TABLE ${r.table} (${[...keys.map((k) => `${k} VARCHAR`), ...timeColumns, ...features].join(', ')})`;
  if (r.files.length === 0) return [create];
  const g = (c: string) => `g.${sqlIdent(c)}`;
  const keyCols = r.view.keys.map((k) => g(k.name));
  const featureCols = r.view.features.map((f) => g(f.name));
  const from = `read_parquet(${sqlList(r.files)}, union_by_name = ${r.unionByName}, hive_partitioning = false) g ${narrowingJoin(r.view)}`;
  if (!asKnownAt) {
    return [create, `INSERT INTO ${r.table} SELECT ${keyCols.join(', ')}, g.feature_timestamp, ${orderExpr('g')}, ${featureCols.join(', ')} FROM ${from}`];
  }
  // Rows created after every entity row are harmless: they take over later than any row asks.
  const visible = 'greatest(g.feature_timestamp, g.created_timestamp)';
  return [
    create,
    `INSERT INTO ${r.table} SELECT * EXCLUDE (__o, __served) FROM (
      SELECT ${keyCols.join(', ')}, g.feature_timestamp, ${visible}, ${featureCols.join(', ')}, ${orderExpr('g')} AS __o,
        max(${orderExpr('g')}) OVER (PARTITION BY ${keyCols.join(', ')} ORDER BY ${visible} RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __served
      FROM ${from} WHERE g.created_timestamp IS NOT NULL
    ) WHERE __o = __served`,
  ];
}

/** The entity rows with, per view, the rowid of the view row they get (null when none qualifies). */
export const MATCH_TABLE = 'entity_matches';

export function matchColumn(i: number): string {
  return `${INTERNAL_PREFIX}m${i}`;
}

/**
 * The ASOF joins: only keys and times go through them (sorting wide feature rows is what makes them
 * slow); the features are fetched afterwards by rowid.
 */
export function createMatchesSql(views: readonly ViewRows[], asKnownAt: boolean): string {
  const select = ['e.*'];
  const joins: string[] = [];
  views.forEach((r, i) => {
    const t = `m${i}`;
    const keys = r.view.keys.map((k) => sqlIdent(k.name));
    const time = asKnownAt ? VISIBLE : ORDER;
    const fresh = `epoch_us(e.${EVENT_TIME}) - epoch_us(${t}.${FEATURE_TIME}) <= ${ttlMicros(r.view)}`;
    select.push(`CASE WHEN ${fresh} THEN ${t}.__vrow END AS ${matchColumn(i)}`);
    const onKeys = keys.map((k) => `e.${k}::VARCHAR = ${t}.${k}`);
    const onTime = asKnownAt ? `e.${EVENT_TIME} >= ${t}.${VISIBLE}` : `${high(`e.${EVENT_TIME}`)} + ${MAX_LOW} >= ${t}.${ORDER}`;
    joins.push(
      `ASOF LEFT JOIN (SELECT rowid AS __vrow, ${keys.join(', ')}, ${FEATURE_TIME}, ${time} FROM ${r.table}) ${t} ON ${[...onKeys, onTime].join(' AND ')}`,
    );
  });
  return `CREATE OR REPLACE TEMP TABLE ${MATCH_TABLE} AS SELECT ${select.join(', ')} FROM ${ENTITY_TABLE} e ${joins.join(' ')}`;
}

/** The training set: every entity row in input order, its own columns, then the requested features. */
export function trainingSetSql(views: readonly ViewRows[], computed: readonly ComputedColumn[] = []): string {
  const internal = [ROW_ORDINAL, EVENT_TIME, ...views.map((_, i) => matchColumn(i))];
  const select = [`m.* EXCLUDE (${internal.join(', ')})`];
  const joins: string[] = [];
  views.forEach((r, i) => {
    r.view.features.forEach((f, j) => {
      if (r.hidden?.[j]) return;
      const method = r.normalize?.[j];
      const value = `v${i}.${sqlIdent(f.name)}`;
      const expr = method ? normalizeSql(method, value, (c) => `n${i}.${sqlIdent(parametersColumn(j, c))}`) : value;
      select.push(`${expr} AS ${sqlIdent(r.outputNames[j]!)}`);
    });
    joins.push(`LEFT JOIN ${r.table} v${i} ON v${i}.rowid = m.${matchColumn(i)}`);
    if (r.parametersTable) joins.push(`LEFT JOIN ${r.parametersTable} n${i} ON n${i}.${FEATURE_TIME} = v${i}.${FEATURE_TIME}`);
  });
  for (const c of computed) select.push(`${c.sql} AS ${sqlIdent(c.name)}`);
  return `SELECT ${select.join(', ')} FROM ${MATCH_TABLE} m ${joins.join(' ')} ORDER BY m.${ROW_ORDINAL}`;
}
