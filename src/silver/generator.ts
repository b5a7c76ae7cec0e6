// The synthetic silver generator: a streaming service's events for a date range, computed entirely in
// DuckDB SQL and written in the silver layout. Every random draw is a hash of (seed, stream, keys), so
// a date's rows depend only on the seed, the scale and the date: not on the thread count, nor on the
// range it was generated with.
//
// Model (numbers in synthetic-model.ts): videos ranked by popularity, each with a category and a
// length; users with 1-3 favourite categories, a main device, a country, an activity weight and an
// active window; per start date, sessions (start hour from a diurnal profile, user by activity) of
// several plays; each play a start, heartbeats, maybe a pause and a seek, a completion depending on
// length and taste, and likes / shares / add-to-lists. The events of a play are computed from the
// play's few numbers without window functions (an event's time, position and watch seconds are
// closed-form in its index). A session can cross midnight: date D holds the tail of D-1's sessions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Engine, type EngineOptions, sqlList, sqlStr, withEngine } from '../engine/duckdb.js';
import {
  COMMIT_MARKER,
  commitPartition,
  deletePartition,
  joinKey,
  type Lake,
  newCommitId,
  type PartitionManifest,
  partitionValue,
  paths,
} from '../lake/index.js';
import { addDays, assertDate, dateRange } from '../shared/dates.js';
import { EVENT_TYPES, type EventType, ZERO_WATCH_EVENT_TYPES } from './contract.js';
// Injected bad rows break every rule, one kind per rule, in turn.
import { SILVER_RULE_NAMES, type SilverRuleName } from './rules.js';
import * as m from './synthetic-model.js';

export interface GenerateOptions {
  from: string;
  to: string;
  users: number;
  videos: number;
  /** Events per day on average over a week (weekends are busier). */
  eventsPerDay: number;
  seed: number;
  /** Share of extra bad rows (0 <= rate < 1), spread over every rule kind, for tests of quarantine. */
  badRowRate?: number;
  /** Called as each date is committed. */
  onDate?: (d: GeneratedDate) => void;
}

export interface GeneratedPartition {
  eventType: string;
  /** Lake key of the partition folder. */
  prefix: string;
  rows: number;
  bytes: number;
}

export interface GeneratedDate {
  date: string;
  rows: number;
  badRows: number;
  files: number;
  bytes: number;
  partitions: GeneratedPartition[];
  seconds: number;
}

export interface GenerateReport {
  lake: string;
  seed: number;
  dates: GeneratedDate[];
  rows: number;
  badRows: number;
  files: number;
  bytes: number;
  seconds: number;
}

/** Rows per Parquet row group: small enough that an hour range skips most of a day's groups. */
export const SILVER_ROW_GROUP_SIZE = 122_880;

/** The event type the generator writes its unknown_event_type bad rows under. */
export const UNKNOWN_EVENT_TYPE = 'buffering';

const DAY_MS = 86_400_000;

function validate(o: GenerateOptions): void {
  assertDate(o.from);
  assertDate(o.to);
  if (o.from > o.to) throw new RangeError(`invalid date range ${o.from}..${o.to}: from is after to`);
  for (const k of ['users', 'videos', 'eventsPerDay'] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] <= 0) throw new RangeError(`invalid ${k} ${o[k]}: expected a positive whole number`);
  }
  if (!Number.isSafeInteger(o.seed)) throw new RangeError(`invalid seed ${o.seed}: expected a whole number`);
  const rate = o.badRowRate ?? 0;
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`invalid bad row rate ${rate}: expected 0 <= rate < 1`);
}

/** SQL for the draws: uniforms in [0, 1) and standard normals, from hash(seed, stream, keys...). */
class Draws {
  constructor(private readonly seed: number) {}

  u(stream: number, ...keys: string[]): string {
    // DuckDB combines the hashes of several arguments by XOR with the last one, so draws of different
    // streams for the same keys would be correlated; hashing the combined hash again mixes them apart.
    // The top 53 bits, scaled to [0, 1).
    return `((hash(hash(${this.seed}::BIGINT, ${stream}, ${keys.join(', ')})) >> 11)::DOUBLE * ${2 ** -53})`;
  }

  /** Box-Muller. */
  normal(stream: number, ...keys: string[]): string {
    return `(sqrt(-2 * ln(1 - ${this.u(stream, ...keys)})) * cos(2 * pi() * ${this.u(stream + 1, ...keys)}))`;
  }

  /** A weighted choice of an index (0, 1...): the weights expanded into a constant list indexed by a uniform. */
  pick(weights: readonly number[], stream: number, keys: string[]): string {
    const expanded = weights.flatMap((w, i) => Array.from({ length: w }, () => i));
    return `[${expanded.join(', ')}][1 + floor(${this.u(stream, ...keys)} * ${expanded.length})::INT]`;
  }
}

const epochDay = (d: string): number => Date.parse(`${d}T00:00:00Z`) / DAY_MS;
const compact = (d: string): string => d.replaceAll('-', '');
const shortDate = (d: string): string => compact(d).slice(2);
const isoDayOfWeek = (d: string): number => ((new Date(`${d}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
const categoryNames = sqlList(m.CATEGORIES.map((c) => c.name));
// Devices and countries are carried as codes, indexes into these lists; the bad rows' values come last.
const DEVICES = [...Object.keys(m.DEVICE_WEIGHTS), 'smartwatch'];
const COUNTRIES = [...Object.keys(m.COUNTRY_WEIGHTS), 'XX', 'usa', 'us'];
const code = (names: string[], name: string): number => names.indexOf(name);

/**
 * The catalogue needs no table: video v is the v-th most popular; categories interleave (v mod 12),
 * so that the k-th most popular video of category c is v = 12k + c and every category has popular
 * videos; a video's length is a draw keyed by v.
 */
function videoDurationSql(r: Draws, v: string, cat: string): string {
  const medians = `[${m.CATEGORIES.map((c) => c.medianSeconds).join(', ')}]`;
  const [lo, hi] = m.DURATION_BOUNDS_SECONDS;
  return `round(least(${hi}, greatest(${lo}, ${medians}[${cat} + 1] * exp(${m.DURATION_LOG_SIGMA} * ${r.normal(1, v)}))))::DOUBLE`;
}

/** Table gen_users: the user base, fixed for a seed and scale, with each user's share of sessions (cumulated, for picking). */
async function createUsers(db: Engine, o: GenerateOptions, r: Draws): Promise<void> {
  const n = m.CATEGORIES.length;
  const [minLife, maxLife] = m.LIFETIME_DAYS;
  await db.run(`CREATE OR REPLACE TEMP TABLE gen_users AS
    WITH base AS (
      SELECT u,
        exp(${m.ACTIVITY_LOG_SIGMA} * ${r.normal(10, 'u')}) AS weight,
        floor(${r.u(12, 'u')} * ${n})::INT AS fav1,
        (fav1 + 1 + floor(${r.u(13, 'u')} * ${Math.floor(n / 2)})::INT) % ${n} AS fav2,
        (fav1 + ${Math.floor(n / 2) + 1} + floor(${r.u(14, 'u')} * ${n - Math.floor(n / 2) - 1})::INT) % ${n} AS fav3,
        1 + floor(${r.u(15, 'u')} * 3)::INT AS n_fav,
        ${r.pick(Object.values(m.DEVICE_WEIGHTS), 16, ['u'])}::UTINYINT AS main_device,
        ${r.pick(Object.values(m.COUNTRY_WEIGHTS), 17, ['u'])}::UTINYINT AS country,
        floor(${r.u(18, 'u')} * ${m.USER_CYCLE_DAYS})::INT AS phase,
        CASE WHEN ${r.u(19, 'u')} < ${m.LOYAL_USER_SHARE} THEN ${m.USER_CYCLE_DAYS}
          ELSE ${minLife} + floor(${r.u(9, 'u')} * ${maxLife - minLife + 1})::INT END AS lifetime
      FROM range(${o.users}) t(u))
    SELECT *, coalesce(sum(weight) OVER (ORDER BY u ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) / sum(weight) OVER () AS cum_lo
    FROM base`);
}

/** SQL: whether a user is in their active window on epoch day `dn`. */
const activeOn = (dn: number): string => `((${dn} - phase) % ${m.USER_CYCLE_DAYS} + ${m.USER_CYCLE_DAYS}) % ${m.USER_CYCLE_DAYS} < lifetime`;

/** Events the sessions starting on a date are cut to: the daily volume times the weekday factor. */
function targetEvents(o: GenerateOptions, date: string): number {
  return Math.round(o.eventsPerDay * m.WEEKDAY_VOLUME[isoDayOfWeek(date) - 1]!);
}

/**
 * The plays of the sessions starting on `date`, as table `table`: sessions 0, 1, 2... are drawn
 * independently, and whole sessions are kept in order until the date's event target is reached (so
 * a date gives the same plays whatever else is generated).
 */
async function createPlays(db: Engine, o: GenerateOptions, r: Draws, date: string, table: string): Promise<void> {
  const dn = epochDay(date);
  const target = targetEvents(o, date);
  const { activeShare } = await db.one<{ activeShare: number }>(
    `SELECT coalesce(sum(weight) FILTER (WHERE ${activeOn(dn)}) / sum(weight), 0) AS activeShare FROM gen_users`,
  );
  const hours = isoDayOfWeek(date) >= 6 ? m.HOURLY_WEIGHTS_WEEKEND : m.HOURLY_WEIGHTS_WEEKDAY;
  // Session draws are keyed by the start date too: each date has its own sessions.
  const s = [String(dn), 's'];
  const sj = [String(dn), 's', 'j'];
  const nc = m.CATEGORIES.length;
  const { short, medium, long } = m.COMPLETION_BY_LENGTH;
  const candidates = (lo: number, hi: number): string => `
    WITH sessions AS (
      SELECT s, a.*,
        ${dn * 86_400_000_000} + ((hour + ${r.u(22, ...s)}) * 3600e6)::BIGINT AS session_us,
        CASE WHEN ${r.u(23, ...s)} < ${m.MAIN_DEVICE_SHARE} THEN main_device ELSE ${r.pick(Object.values(m.DEVICE_WEIGHTS), 24, s)}::UTINYINT END AS device,
        least(${m.SESSION_MAX_PLAYS}, 1 + floor(ln(1 - ${r.u(25, ...s)}) / ln(${m.SESSION_CONTINUE_PROBABILITY}))::INT) AS n_plays
      FROM (SELECT s, ${r.u(20, ...s)} AS user_pick, ${r.pick(hours, 21, s)} AS hour FROM range(${lo}, ${hi}) t(s)) x
      -- a user by session weight; sessions of users outside their active window are dropped
      ASOF JOIN gen_users a ON x.user_pick >= a.cum_lo
      WHERE ${activeOn(dn)}),
    picks AS (
      SELECT *,
        CASE WHEN n_fav = 1 OR ${r.u(31, ...sj)} < ${m.FAVOURITE_SPLIT.first} THEN fav1
             WHEN n_fav = 2 OR ${r.u(31, ...sj)} < ${m.FAVOURITE_SPLIT.second} THEN fav2 ELSE fav3 END AS taste_cat,
        -- videos of the category: v = taste_cat + ${nc}k for k < ceil((videos - taste_cat) / ${nc})
        (${o.videos} - taste_cat + ${nc - 1}) // ${nc} AS in_category,
        pow(${r.u(32, ...sj)}, ${m.ZIPF_POWER}) AS rank_fraction,
        CASE WHEN ${r.u(30, ...sj)} < ${m.TASTE_SHARE} AND in_category > 0 THEN taste_cat + ${nc} * floor(rank_fraction * in_category)::BIGINT
          ELSE floor(rank_fraction * ${o.videos})::BIGINT END AS v
      FROM (SELECT *, unnest(range(n_plays)) AS j FROM sessions)),
    picked AS (SELECT *, (v % ${nc})::INT AS cat, ${videoDurationSql(r, 'v', `(v % ${nc})::INT`)} AS duration FROM picks),
    plays AS (
      SELECT s, j, session_us, device, country, u, v, cat, duration,
        list_contains([fav1, fav2, fav3][1:n_fav], cat) AS on_taste,
        CASE WHEN ${r.u(33, ...sj)} < ${m.RESUME_PROBABILITY} THEN round(${r.u(34, ...sj)} * 0.7 * duration) ELSE 0 END AS start_pos,
        ${r.u(35, ...sj)} < (CASE WHEN duration < 600 THEN ${short} WHEN duration < 3600 THEN ${medium} ELSE ${long} END)
          * (CASE WHEN on_taste THEN 1 ELSE ${m.TASTE_MISS_COMPLETION} END) AS completed,
        ${r.u(36, ...sj)} < ${m.SEEK_PROBABILITY} AS has_seek,
        CASE WHEN has_seek THEN ${r.u(37, ...sj)} * 0.25 * (duration - start_pos) ELSE 0 END AS jump,
        -- abandoned plays stop early more often than late
        (duration - start_pos - jump) * CASE WHEN completed THEN 1 ELSE 0.02 + 0.9 * pow(${r.u(38, ...sj)}, 1.5) END AS watched,
        ${r.u(39, ...sj)} * watched AS seek_at,
        ${r.u(40, ...sj)} < 1 - exp(-watched / ${m.PAUSE_SCALE_SECONDS}) AS has_pause,
        ${r.u(41, ...sj)} * watched AS pause_at,
        CASE WHEN has_pause THEN 15 + pow(${r.u(42, ...sj)}, 2) * 900 ELSE 0 END AS pause_seconds,
        ${r.u(43, ...sj)} < ${m.LIKE_RATE.base} + CASE WHEN completed THEN ${m.LIKE_RATE.completed} ELSE 0 END + CASE WHEN on_taste THEN ${m.LIKE_RATE.onTaste} ELSE 0 END AS liked,
        ${r.u(44, ...sj)} < ${m.SHARE_RATE.base} + CASE WHEN completed THEN ${m.SHARE_RATE.completed} ELSE 0 END AS shared,
        ${r.u(45, ...sj)} < CASE WHEN on_taste THEN ${m.ADD_TO_LIST_RATE.onTaste} ELSE ${m.ADD_TO_LIST_RATE.offTaste} END AS listed,
        greatest(0, ceil(watched / ${m.HEARTBEAT_SECONDS})::INT - 1) AS heartbeats,
        -- the other events of the play, as bits: bit c for the type of index c in EVENT_TYPES (2 pause, 3 seek,
        -- 4 complete, 5 like, 6 share, 7 add_to_list)
        ((CASE WHEN has_pause THEN 4 ELSE 0 END) | (CASE WHEN has_seek THEN 8 ELSE 0 END) | (CASE WHEN completed THEN 16 ELSE 0 END)
          | (CASE WHEN liked THEN 32 ELSE 0 END) | (CASE WHEN shared THEN 64 ELSE 0 END) | (CASE WHEN listed THEN 128 ELSE 0 END))::UTINYINT AS extras,
        1 + heartbeats + bit_count(extras) AS n_events,
        watched + pause_seconds + 2 * bit_count(extras) AS wall_seconds,
        5 + ${r.u(46, ...sj)} * 60 AS gap_seconds
      FROM picked)
    SELECT * EXCLUDE (completed, liked, shared, listed, on_taste),
      coalesce(sum(wall_seconds + gap_seconds) OVER w, 0) AS play_offset,
      coalesce(sum(n_events) OVER w, 0)::BIGINT AS events_before
    FROM plays
    WINDOW w AS (PARTITION BY s ORDER BY j ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`;

  // About 16 events per session of an active user: draw a few more sessions than that needs (a second round
  // costs more than the extra draws), then more if still short (a continuation, so the result does not
  // depend on the estimate) until the target is covered.
  const span = m.SESSION_MAX_SPAN_SECONDS;
  const candidatesTable = `${table}_candidates`;
  let drawn = Math.ceil(target / (15 * Math.max(activeShare, 0.01))) + 16;
  await db.run(`CREATE OR REPLACE TEMP TABLE ${candidatesTable} AS ${candidates(0, drawn)}`);
  for (;;) {
    const { total } = await db.one<{ total: number }>(`SELECT coalesce(sum(n_events), 0)::BIGINT AS total FROM ${candidatesTable} WHERE play_offset < ${span}`);
    if (total >= target || activeShare === 0) break;
    const more = Math.ceil((drawn * (target - total) * 1.1) / Math.max(total, 1)) + 16;
    await db.run(`INSERT INTO ${candidatesTable} ${candidates(drawn, drawn + more)}`);
    drawn += more;
  }
  // The sessions kept (whole, in order, up to the target) and the number of their first event.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${table}_sessions AS
    SELECT s, (events_end - events)::BIGINT AS first_event
    FROM (SELECT s, sum(n_events) AS events, sum(sum(n_events)) OVER (ORDER BY s) AS events_end FROM ${candidatesTable} WHERE play_offset < ${span} GROUP BY s)
    WHERE events_end <= ${target}`);
  await db.run(`CREATE OR REPLACE TEMP VIEW ${table} AS
    SELECT c.* EXCLUDE (gap_seconds, play_offset, events_before),
      session_us + (play_offset * 1e6)::BIGINT AS play_us,
      ${dn} AS start_day,
      first_event + events_before AS id_base
    FROM ${candidatesTable} c JOIN ${table}_sessions USING (s)
    WHERE play_offset < ${span}`);
}

async function dropPlays(db: Engine, table: string): Promise<void> {
  await db.run(`DROP VIEW ${table}`);
  await db.run(`DROP TABLE ${table}_sessions`);
  await db.run(`DROP TABLE ${table}_candidates`);
}

/**
 * The columns of an event row, as the SELECTs below give them: numbers only, so that sorting a day's
 * events moves narrow rows; the file's strings are made from them after the sort (fileColumnsSql).
 * event_us: the time in microseconds since the epoch; ord: the start date's epoch day * 2^32 + the
 * event's number that day (its id, and the tie-break of the sort); id_form: 0 the id, 1 NULL, 2 the id
 * with '-bad' (a bad row's copy); u, s, v, cat: user, session, video and category numbers; device and
 * country: codes into DEVICES and COUNTRIES.
 */
const EVENT_ROW = [
  'event_us',
  'ord',
  'id_form',
  'u',
  's',
  'v',
  'cat',
  'watch_seconds',
  'play_position_seconds',
  'video_duration_seconds',
  'device',
  'country',
].join(', ');

/** SQL: the start date (YYMMDD) of an event row dated `date` (its play started on it or the day before). */
function startDateSql(date: string): string {
  const day = (d: string): string => `WHEN ${epochDay(d)} THEN '${shortDate(d)}'`;
  return `CASE ord >> 32 ${day(date)} ${day(addDays(date, -1))} END`;
}

/** SQL: an event row's id (without its form). */
const eventIdSql = (date: string): string => `${startDateSql(date)} || to_base(ord & ${2 ** 32 - 1}, 36, 6)`;

/** The silver file columns of an event row dated `date`. */
function fileColumnsSql(date: string): string {
  const id = eventIdSql(date);
  return `CASE id_form WHEN 0 THEN ${id} WHEN 2 THEN ${id} || '-bad' END AS event_id,
    make_timestamp(event_us) AS event_timestamp,
    'u' || u AS user_id,
    's' || ${startDateSql(date)} || to_base(s, 36, 5) AS session_id,
    'v' || v AS video_id,
    ${categoryNames}[cat + 1] AS category,
    watch_seconds, play_position_seconds, video_duration_seconds,
    ${sqlList(DEVICES)}[device + 1] AS device_type,
    ${sqlList(COUNTRIES)}[country + 1] AS country`;
}

/**
 * The event rows of one type (its index in EVENT_TYPES) dated `date`, from the plays starting that
 * day and the tail of the previous day's: one row per heartbeat of a play, at most one per play for
 * the other types. Offsets are seconds of watching into the play; an event's time adds the pause when
 * it comes after it; its watch seconds are its offset minus the previous event's offset. k numbers
 * a play's events (0 the start, then the heartbeats, then the rest in code order). Ids are the start
 * date (YYMMDD) and the event's number that day in base 36: 12 characters, which DuckDB stores
 * inline (cheaper to write).
 */
function dayEventsSql(date: string, plays: string, previousPlays: string, code: number): string {
  const hb = m.HEARTBEAT_SECONDS;
  const events =
    code === 0
      ? 'SELECT *, 0 AS k FROM p'
      : code === 1
        ? 'SELECT *, unnest(range(1, heartbeats + 1)) AS k FROM p WHERE heartbeats > 0'
        : `SELECT *, heartbeats + 1 + bit_count(extras & ${2 ** code - 1}) AS k FROM p WHERE extras & ${2 ** code} <> 0`;
  const offset = ['0.0::DOUBLE', `${hb}.0 * k`, 'pause_at', 'seek_at'][code] ?? 'watched';
  // Times are microseconds since the epoch until the end: integer comparisons keep the date filter cheap.
  const dayStart = epochDay(date) * 86_400_000_000;
  return `SELECT ${EVENT_ROW} FROM (
    WITH p AS (
      SELECT * FROM ${plays}
      UNION ALL
      SELECT * FROM ${previousPlays} WHERE play_us + ((wall_seconds + 1) * 1e6)::BIGINT >= ${dayStart}),
    o AS (
      SELECT *, play_us + round((offset_s + CASE WHEN has_pause AND offset_s > pause_at THEN pause_seconds ELSE 0 END + ${code >= 5 ? 2 * (code - 4) : 0}) * 1e6)::BIGINT AS event_us
      FROM (SELECT *, ${offset} AS offset_s FROM (${events})))
    SELECT event_us,
      start_day * ${2 ** 32} + id_base + k AS ord,
      0::UTINYINT AS id_form,
      u, s, v, cat,
      ${
        ZERO_WATCH_EVENT_TYPES.includes(EVENT_TYPES[code]!)
          ? '0.0::DOUBLE'
          : `offset_s - greatest(${hb} * least(heartbeats, ceil(offset_s / ${hb})::INT - 1),
          CASE WHEN has_pause AND pause_at < offset_s THEN pause_at ELSE 0 END,
          CASE WHEN has_seek AND seek_at < offset_s THEN seek_at ELSE 0 END)`
      } AS watch_seconds,
      least(duration, start_pos + offset_s + CASE WHEN has_seek AND offset_s >= seek_at THEN jump ELSE 0 END) AS play_position_seconds,
      duration AS video_duration_seconds,
      device, country
    FROM o WHERE event_us >= ${dayStart} AND event_us < ${dayStart + 86_400_000_000})`;
}

/**
 * Table gen_bad: copies of a sample of the day's events (rate of them; `dayEvents` gives the event
 * rows with their event_type), each broken one way, the ways drawn in turn so that every rule is
 * exercised: event rows, with the event_type the copy is written under. Copies get new event ids,
 * except duplicates.
 */
async function createBadRows(db: Engine, r: Draws, rate: number, date: string, dayEvents: string): Promise<number> {
  // `variant` picks among the ways of breaking a rule (which key is null, NaN or infinity...).
  const variant = (n: number) => `floor(variant * ${n})`;
  const col = (name: string, cases: Partial<Record<SilverRuleName, string>>): string =>
    `CASE kind ${Object.entries(cases)
      .map(([k, v]) => `WHEN '${k}' THEN ${v}`)
      .join(' ')} ELSE ${name} END AS ${name}`;
  await db.run(`CREATE OR REPLACE TEMP TABLE gen_bad AS
    SELECT
      ${col('event_us', {
        null_key: `CASE WHEN ${variant(5)} = 1 THEN NULL ELSE event_us END`,
        timestamp_in_future: 'epoch_us(make_timestamp(event_us) + INTERVAL 100 YEAR)',
        timestamp_outside_partition: `event_us - (1 + ${variant(3)})::BIGINT * 86400000000`,
      })},
      ord,
      (CASE WHEN kind = 'duplicate_event_id' THEN 0 WHEN kind = 'null_key' AND ${variant(5)} = 0 THEN 1 ELSE 2 END)::UTINYINT AS id_form,
      ${col('u', { null_key: `CASE WHEN ${variant(5)} = 2 THEN NULL ELSE u END` })},
      ${col('s', { null_key: `CASE WHEN ${variant(5)} = 3 THEN NULL ELSE s END` })},
      ${col('v', { null_key: `CASE WHEN ${variant(5)} = 4 THEN NULL ELSE v END` })},
      ${col('cat', { null_value: `CASE WHEN ${variant(4)} = 0 THEN NULL ELSE cat END` })},
      ${col('watch_seconds', {
        null_value: `CASE WHEN ${variant(4)} = 1 THEN NULL ELSE watch_seconds END`,
        non_finite_number: `CASE WHEN ${variant(2)} = 0 THEN 'NaN'::DOUBLE ELSE watch_seconds END`,
        negative_watch_seconds: `-1 - ${variant(300)}`,
        unexpected_watch_seconds: `1 + ${variant(60)}`,
      })},
      ${col('play_position_seconds', {
        null_value: `CASE WHEN ${variant(4)} = 2 THEN NULL ELSE play_position_seconds END`,
        non_finite_number: `CASE WHEN ${variant(2)} = 1 THEN 'Infinity'::DOUBLE ELSE play_position_seconds END`,
        nonpositive_duration: '0.0',
        negative_position: `-1 - ${variant(300)}`,
        position_beyond_duration: `video_duration_seconds + 1 + ${variant(600)}`,
      })},
      ${col('video_duration_seconds', {
        null_value: `CASE WHEN ${variant(4)} = 3 THEN NULL ELSE video_duration_seconds END`,
        nonpositive_duration: `CASE WHEN ${variant(2)} = 0 THEN 0.0 ELSE -video_duration_seconds END`,
      })},
      ${col('device', { unknown_device_type: `CASE WHEN ${variant(2)} = 0 THEN NULL ELSE ${code(DEVICES, 'smartwatch')}::UTINYINT END` })},
      ${col('country', { bad_country: `[NULL, ${['XX', 'usa', 'us'].map((c) => code(COUNTRIES, c)).join(', ')}][1 + ${variant(4)}::INT]::UTINYINT` })},
      ${col('event_type', { unknown_event_type: sqlStr(UNKNOWN_EVENT_TYPE), unexpected_watch_seconds: "'play_start'" })}
    FROM (
      SELECT *, ${sqlList([...SILVER_RULE_NAMES])}[1 + floor(${r.u(51, 'event_id')} * ${SILVER_RULE_NAMES.length})::INT] AS kind, ${r.u(52, 'event_id')} AS variant
      FROM (SELECT *, ${eventIdSql(date)} AS event_id FROM (${dayEvents})) WHERE ${r.u(50, 'event_id')} < ${rate})`);
  const { n } = await db.one<{ n: number }>('SELECT count(*)::BIGINT AS n FROM gen_bad');
  return n;
}

/**
 * Writes a date's silver: per event type, its events (the SELECT of event rows `events(type)` gives)
 * written to one Parquet file sorted by event_timestamp in row groups of SILVER_ROW_GROUP_SIZE, committed with
 * its manifest; then the date's _SUCCESS. The date marker is removed first and written last, so that
 * readers see the date as incomplete while it is rewritten; type folders of an earlier generation
 * that this one lacks go.
 */
async function writeDay(
  db: Engine,
  lake: Lake,
  dir: string,
  date: string,
  types: string[],
  events: (eventType: string) => string,
  meta: Record<string, unknown>,
): Promise<GeneratedPartition[]> {
  const datePrefix = paths.silverDate(date);
  await lake.delete(joinKey(datePrefix, COMMIT_MARKER));
  const partitions: GeneratedPartition[] = [];
  const files: PartitionManifest['files'] = [];
  for (const eventType of [...types].sort()) {
    const file = join(dir, `${date}-${eventType}.parquet`);
    // The rows are sorted as numbers, then made strings: the ORDER BY's output order is kept by what is above it.
    // Only a duplicate and its original tie (the same row), so the bytes are the same at each run. Parquet
    // V2's encodings make smaller files, faster to write and to read, than V1's (every current reader has them).
    await db.run(`COPY (SELECT ${fileColumnsSql(date)} FROM (SELECT * FROM (${events(eventType)}) ORDER BY event_us, ord, id_form))
      TO ${sqlStr(file)} (FORMAT parquet, PARQUET_VERSION v2, ROW_GROUP_SIZE ${SILVER_ROW_GROUP_SIZE})`);
    const { rows } = await db.one<{ rows: number }>(`SELECT count(*)::BIGINT AS rows FROM read_parquet(${sqlStr(file)})`);
    if (rows > 0) {
      const prefix = paths.silverPartition(date, eventType);
      const manifest = await commitPartition(lake, prefix, [{ localPath: file }], { ...meta, rows });
      partitions.push({ eventType, prefix, rows, bytes: manifest.files.reduce((a, f) => a + f.size, 0) });
      files.push(...manifest.files.map((f) => ({ name: `event_type=${eventType}/${f.name}`, size: f.size })));
    }
    await rm(file);
  }
  const written = new Set(partitions.map((p) => p.eventType));
  for (const d of await lake.listDirs(datePrefix)) {
    const t = partitionValue(d, 'event_type');
    if (t !== undefined && !written.has(t)) await deletePartition(lake, joinKey(datePrefix, d));
  }
  // The date's marker lists every file of the date (keys relative to the date folder), as a manifest.
  const marker: PartitionManifest = { commitId: newCommitId(), committedAt: new Date().toISOString(), files, meta };
  await lake.write(joinKey(datePrefix, COMMIT_MARKER), JSON.stringify(marker, null, 1));
  return partitions;
}

/** Writes synthetic silver for every date of the range (replacing what is there). */
export async function generateSilver(lake: Lake, engine: EngineOptions, opts: GenerateOptions): Promise<GenerateReport> {
  validate(opts);
  const t0 = Date.now();
  const r = new Draws(opts.seed);
  const rate = opts.badRowRate ?? 0;
  const dir = await mkdtemp(join(tmpdir(), 'gold-silver-gen-'));
  const dates: GeneratedDate[] = [];
  try {
    await withEngine(engine, async (db) => {
      await createUsers(db, opts, r);
      const playsOf = (d: string) => `gen_plays_${compact(d)}`;
      // Date D holds the tail of the sessions that started on D-1.
      let previous = addDays(opts.from, -1);
      await createPlays(db, opts, r, previous, playsOf(previous));
      for (const date of dateRange(opts.from, opts.to)) {
        const t1 = Date.now();
        await createPlays(db, opts, r, date, playsOf(date));
        // Each type's events are computed as they are written: the day is never materialized whole.
        const ofType = (t: string): string => dayEventsSql(date, playsOf(date), playsOf(previous), EVENT_TYPES.indexOf(t as EventType));
        const badRows =
          rate > 0
            ? await createBadRows(db, r, rate, date, EVENT_TYPES.map((t) => `SELECT *, ${sqlStr(t)} AS event_type FROM (${ofType(t)})`).join(' UNION ALL '))
            : 0;
        const badTypes = badRows > 0 ? (await db.all<{ t: string }>('SELECT DISTINCT event_type AS t FROM gen_bad')).map((x) => x.t) : [];
        const types = [...new Set([...EVENT_TYPES, ...badTypes])];
        const events = (t: string): string =>
          [
            ...((EVENT_TYPES as readonly string[]).includes(t) ? [ofType(t)] : []),
            ...(badTypes.includes(t) ? [`SELECT ${EVENT_ROW} FROM gen_bad WHERE event_type = ${sqlStr(t)}`] : []),
          ].join(' UNION ALL ');
        const partitions = await writeDay(db, lake, dir, date, types, events, {
          generator: 'gold silver generate',
          seed: opts.seed,
          users: opts.users,
          videos: opts.videos,
          eventsPerDay: opts.eventsPerDay,
          badRowRate: rate,
        });
        await db.run('DROP TABLE IF EXISTS gen_bad');
        await dropPlays(db, playsOf(previous));
        previous = date;
        const day: GeneratedDate = {
          date,
          rows: partitions.reduce((a, p) => a + p.rows, 0),
          badRows,
          files: partitions.length,
          bytes: partitions.reduce((a, p) => a + p.bytes, 0),
          partitions,
          seconds: (Date.now() - t1) / 1000,
        };
        dates.push(day);
        opts.onDate?.(day);
      }
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    lake: lake.uri,
    seed: opts.seed,
    dates,
    rows: dates.reduce((a, d) => a + d.rows, 0),
    badRows: dates.reduce((a, d) => a + d.badRows, 0),
    files: dates.reduce((a, d) => a + d.files, 0),
    bytes: dates.reduce((a, d) => a + d.bytes, 0),
    seconds: (Date.now() - t0) / 1000,
  };
}
