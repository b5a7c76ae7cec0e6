// Daily partial aggregates ("tiles"): each day's accepted silver events reduced once, per entity, to
// what the windowed features need (sums, counts, the (entity, item) pairs that exact distinct counts
// need, first/last times, per-hour counts). A family's window of N days is then merged from the last
// N daily partials instead of rescanning raw events. History-wide values come from running states
// folded forward one day at a time; so do the sums over a window (window states: yesterday's sums plus
// today's partial minus the partial of the day that leaves the window), so that a family reads one
// state instead of 30 days of rows. The window states are not declared here: each family declares the
// sums over windows it reads (FamilyDecl.windows: daily partial, measure or expression, windows), and
// ./windows.ts derives one state per daily partial from all families' declarations (docs/windows.md).
// A daily partial declares its keys and its measures (the numeric columns a window can sum, with their
// types) for that.
//
// Distinct counts over a window would need a grouping by every (user, video) or (user, session) pair
// of the window (16 million pairs over 30 days at 5 million events a day). Link partials avoid it: each
// pair of a day gets the latest earlier day (within the window) the pair was seen, so that "distinct
// pairs in the window" becomes "pairs of the window's days not seen earlier in the window": a count by
// entity, not by pair. What is stored is the day's pairs counted by entity and previous days (all a
// family filters on), a fraction of the pairs.
//
// Daily SQL reads the `events` view (one day of accepted silver, as the silver reader makes it); each
// row also carries the `day` it belongs to. Watch seconds are summed as DECIMAL (microsecond precision):
// exact sums do not depend on the order DuckDB's threads add them in, so a recomputation gives the same
// bits.

/** The types a window state column can have: sums of integers and of DECIMALs are exact. */
export type WindowSumType = 'BIGINT' | 'DECIMAL(38, 6)';

export interface DailyPartial {
  kind: 'daily';
  name: string;
  description: string;
  /** The columns a row is unique by (besides `day`): the keys of the window state summing the partial. */
  keys: readonly string[];
  /** The numeric columns a window can sum, with their DuckDB types (a unit test checks them against the SQL). */
  measures: Readonly<Record<string, WindowSumType>>;
  /** SELECT over `events` (one day), grouped by the partial's keys. */
  sql: string;
}

export interface HistoryPartial {
  kind: 'history';
  name: string;
  description: string;
  /** The daily partial folded into the state. */
  from: DailyPartialName;
  /** SELECT over `previous` (the state of the day before; empty on the first day) and `today` (the daily partial). */
  sql: string;
}

export interface WindowSum {
  /** An expression over a row of the daily partial (its `day` included). */
  expr: string;
  type: WindowSumType;
  /** The sum covers the last `days` days up to the date, the date included. */
  days: number;
}

export interface WindowPartial {
  kind: 'window';
  name: string;
  description: string;
  /** The daily partial summed. */
  from: DailyPartialName;
  keys: readonly string[];
  /** State columns. Besides them, `days_present`: the days of the longest window with a row for the keys (rows without any are dropped). */
  sums: Record<string, WindowSum>;
}

export interface LinkPartial {
  kind: 'link';
  name: string;
  description: string;
  /** The daily partial linked. */
  from: DailyPartialName;
  /** How many days before the date a link looks back: a window of lookbackDays + 1 days can use it. */
  lookbackDays: number;
  /** The day's pairs with their earlier days: a SELECT over `today` (the daily partial of the date) and `before` (the same partial of the lookback days, with their `day`). Link partials with the same pairs share one computation. */
  pairs: string;
  /** What is stored: a SELECT over `pairs`. */
  sql: string;
}

const INTERACTIONS = "event_type IN ('like', 'share', 'add_to_list')";

/** UTC hours 0-23: the columns h0-h23 of user_hour_day. */
export const HOURS = Array.from({ length: 24 }, (_, h) => h);

export const DAILY_PARTIALS = {
  user_day: {
    kind: 'daily',
    name: 'user_day',
    description: 'per user and day: watch seconds, event counts by kind, first and last event time',
    keys: ['user_id'],
    measures: { watch_seconds: 'DECIMAL(38, 6)', play_starts: 'BIGINT', completes: 'BIGINT', interactions: 'BIGINT', events: 'BIGINT' },
    sql: `SELECT user_id,
        sum(watch_seconds::DECIMAL(38, 6)) AS watch_seconds,
        count(*) FILTER (WHERE event_type = 'play_start') AS play_starts,
        count(*) FILTER (WHERE event_type = 'complete') AS completes,
        count(*) FILTER (WHERE ${INTERACTIONS}) AS interactions,
        count(*) AS events,
        min(event_timestamp) AS first_ts,
        max(event_timestamp) AS last_ts
      FROM events GROUP BY user_id`,
  },
  user_hour_day: {
    kind: 'daily',
    name: 'user_hour_day',
    description: 'per user and day: event count by UTC hour, in columns h0-h23 (one row a user: a window merges by user, not by user and hour)',
    keys: ['user_id'],
    measures: Object.fromEntries(HOURS.map((h) => [`h${h}`, 'BIGINT' as const])),
    sql: `SELECT user_id, ${HOURS.map((h) => `count(*) FILTER (WHERE hour = ${h}) AS h${h}`).join(', ')}
      FROM (SELECT user_id, hour(event_timestamp) AS hour FROM events) GROUP BY user_id`,
  },
  user_session_day: {
    kind: 'daily',
    name: 'user_session_day',
    description: "per user, session and day: first and last event time (a session's span inside a window)",
    keys: ['user_id', 'session_id'],
    measures: {},
    sql: `SELECT user_id, session_id, min(event_timestamp) AS first_ts, max(event_timestamp) AS last_ts FROM events GROUP BY ALL`,
  },
  user_category_day: {
    kind: 'daily',
    name: 'user_category_day',
    description: 'per user, category and day: watch seconds, events, play starts',
    keys: ['user_id', 'category'],
    measures: { watch_seconds: 'DECIMAL(38, 6)', events: 'BIGINT', play_starts: 'BIGINT' },
    sql: `SELECT user_id, category, sum(watch_seconds::DECIMAL(38, 6)) AS watch_seconds, count(*) AS events,
        count(*) FILTER (WHERE event_type = 'play_start') AS play_starts
      FROM events GROUP BY ALL`,
  },
  user_video_day: {
    kind: 'daily',
    name: 'user_video_day',
    description: 'per user, video and day: interactions (exact distinct counts, return visits, embeddings)',
    keys: ['user_id', 'video_id'],
    measures: {
      play_starts: 'BIGINT',
      completes: 'BIGINT',
      likes: 'BIGINT',
      shares: 'BIGINT',
      adds: 'BIGINT',
      watch_seconds: 'DECIMAL(38, 6)',
      events: 'BIGINT',
    },
    sql: `SELECT user_id, video_id,
        count(*) FILTER (WHERE event_type = 'play_start') AS play_starts,
        count(*) FILTER (WHERE event_type = 'complete') AS completes,
        count(*) FILTER (WHERE event_type = 'like') AS likes,
        count(*) FILTER (WHERE event_type = 'share') AS shares,
        count(*) FILTER (WHERE event_type = 'add_to_list') AS adds,
        sum(watch_seconds::DECIMAL(38, 6)) AS watch_seconds,
        count(*) AS events
      FROM events GROUP BY ALL`,
  },
  video_day: {
    kind: 'daily',
    name: 'video_day',
    description: 'per video and day: play starts, completes, watch seconds, likes, shares',
    keys: ['video_id'],
    measures: { play_starts: 'BIGINT', completes: 'BIGINT', watch_seconds: 'DECIMAL(38, 6)', likes: 'BIGINT', shares: 'BIGINT', events: 'BIGINT' },
    sql: `SELECT video_id,
        count(*) FILTER (WHERE event_type = 'play_start') AS play_starts,
        count(*) FILTER (WHERE event_type = 'complete') AS completes,
        sum(watch_seconds::DECIMAL(38, 6)) AS watch_seconds,
        count(*) FILTER (WHERE event_type = 'like') AS likes,
        count(*) FILTER (WHERE event_type = 'share') AS shares,
        count(*) AS events
      FROM events GROUP BY video_id`,
  },
  video_session_day: {
    kind: 'daily',
    name: 'video_session_day',
    description:
      "per video, user, session and day with play starts: play starts (distinct sessions of a video's viewers over a window; play starts only, a fraction of the events)",
    keys: ['video_id', 'user_id', 'session_id'],
    measures: { play_starts: 'BIGINT' },
    sql: `SELECT video_id, user_id, session_id, count(*) AS play_starts
      FROM events WHERE event_type = 'play_start' GROUP BY ALL`,
  },
  session_day: {
    kind: 'daily',
    name: 'session_day',
    description: 'per session and day: span, counts, the distinct sets, device counts',
    keys: ['session_id'],
    measures: {
      events: 'BIGINT',
      play_starts: 'BIGINT',
      completes: 'BIGINT',
      interactions: 'BIGINT',
      watch_seconds: 'DECIMAL(38, 6)',
      n_mobile: 'BIGINT',
      n_tablet: 'BIGINT',
      n_tv: 'BIGINT',
      n_web: 'BIGINT',
    },
    sql: `SELECT session_id,
        min(user_id) AS user_id,
        min(event_timestamp) AS first_ts,
        max(event_timestamp) AS last_ts,
        count(*) AS events,
        count(*) FILTER (WHERE event_type = 'play_start') AS play_starts,
        count(*) FILTER (WHERE event_type = 'complete') AS completes,
        count(*) FILTER (WHERE ${INTERACTIONS}) AS interactions,
        sum(watch_seconds::DECIMAL(38, 6)) AS watch_seconds,
        list(DISTINCT event_type) AS event_types,
        list(DISTINCT video_id) AS videos,
        list(DISTINCT category) AS categories,
        count(*) FILTER (WHERE device_type = 'mobile') AS n_mobile,
        count(*) FILTER (WHERE device_type = 'tablet') AS n_tablet,
        count(*) FILTER (WHERE device_type = 'tv') AS n_tv,
        count(*) FILTER (WHERE device_type = 'web') AS n_web
      FROM events GROUP BY session_id`,
  },
} as const satisfies Record<string, DailyPartial>;

export type DailyPartialName = keyof typeof DAILY_PARTIALS;

export const HISTORY_PARTIALS = {
  user_history: {
    kind: 'history',
    name: 'user_history',
    description: 'per user, over all history up to the day: first and last event time, total watch seconds',
    from: 'user_day',
    sql: `SELECT user_id, min(first_ts) AS first_ts, max(last_ts) AS last_ts, sum(watch_seconds) AS watch_seconds
      FROM (SELECT user_id, first_ts, last_ts, watch_seconds FROM previous
            UNION ALL SELECT user_id, first_ts, last_ts, watch_seconds FROM today)
      GROUP BY user_id`,
  },
  video_history: {
    kind: 'history',
    name: 'video_history',
    description: 'per video, over all history up to the day: play starts, watch seconds',
    from: 'video_day',
    sql: `SELECT video_id, sum(play_starts)::BIGINT AS play_starts, sum(watch_seconds)::DECIMAL(38, 6) AS watch_seconds
      FROM (SELECT video_id, play_starts, watch_seconds FROM previous UNION ALL SELECT video_id, play_starts, watch_seconds FROM today)
      GROUP BY video_id`,
  },
} as const satisfies Record<string, HistoryPartial>;

export type HistoryPartialName = keyof typeof HISTORY_PARTIALS;

/** ISO weekdays 1 (Monday) - 7: temporal_features sums events by weekday (events_dow1_30d - events_dow7_30d of user_window). */
export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

/** The window state summing a daily partial: user_day -> user_window, user_category_day -> user_category_window. */
export type WindowStateOf<D extends DailyPartialName> = D extends `${infer S}_day` ? `${S}_window` : never;
export type WindowPartialName = WindowStateOf<DailyPartialName>;

export function windowStateName<D extends DailyPartialName>(from: D): WindowStateOf<D> {
  return from.replace(/_day$/, '_window') as WindowStateOf<D>;
}

// The window states themselves (WINDOW_PARTIALS) are not declared here: each family declares the sums
// over windows it reads (FamilyDecl.windows), and ./windows.ts derives the states from all families'
// declarations, one state per daily partial (see docs/windows.md).

/** The window lengths of a window partial longer than a day, ascending: the daily partial of date - days leaves each (a day's window is the daily partial itself). */
export function leavingLengths(w: WindowPartial): number[] {
  return [...new Set(Object.values(w.sums).map((c) => c.days))].filter((d) => d > 1).sort((a, b) => a - b);
}

/**
 * A window state folded forward one day: `previous` (the state of the day before, absent on the first
 * day) plus `today` (the daily partial) minus `leaving_<days>` (the daily partial of date - days, for
 * each length in `leaving`: the ones within silver). Sums of integers and DECIMALs are exact, so the
 * state equals summing the window afresh. By joins on the keys rather than one grouping (a hash
 * aggregate pays per summed column, a join per row): every key leaving a window is in the previous
 * state, whose window holds the leaving days, so only today's keys can be new.
 */
export function windowFoldSql(w: WindowPartial, inputs: { previous: boolean; leaving: readonly number[] }): string {
  const longest = Math.max(...Object.values(w.sums).map((c) => c.days));
  const cols: [string, WindowSum][] = [...Object.entries(w.sums), ['days_present', { expr: '1', type: 'BIGINT', days: longest }]];
  const keys = w.keys.join(', ');
  const leaving = inputs.leaving.map((days) => ({ days, alias: `l${days}`, cols: cols.filter(([, c]) => c.days === days) }));
  const contribution = (from: string, of: [string, WindowSum][]) =>
    `(SELECT ${keys}, ${of.map(([n, c]) => `(${c.expr})::${c.type} AS ${n}`).join(', ')} FROM ${from})`;
  const value = ([n, c]: [string, WindowSum]) => {
    const terms = [...(inputs.previous && c.days > 1 ? [`coalesce(p.${n}, 0)`] : []), `coalesce(t.${n}, 0)`];
    const out = leaving.find((l) => l.days === c.days);
    return `(${terms.join(' + ')}${out ? ` - coalesce(${out.alias}.${n}, 0)` : ''})::${c.type} AS ${n}`;
  };
  return `SELECT * FROM (
      SELECT ${keys}, ${cols.map(value).join(', ')}
      FROM ${inputs.previous ? `previous p FULL JOIN ${contribution('today', cols)} t USING (${keys})` : `${contribution('today', cols)} t`}
      ${leaving.map((l) => `LEFT JOIN ${contribution(`leaving_${l.days}`, l.cols)} ${l.alias} USING (${keys})`).join('\n      ')})
    WHERE days_present > 0`;
}

// max(day, 2): the two largest, latest first; [1] and [2] are NULL when there are fewer.
const USER_VIDEO_PAIRS = `SELECT t.user_id, t.video_id, max(b.day, 2) AS before_days
  FROM today t LEFT JOIN before b ON b.user_id = t.user_id AND b.video_id = t.video_id AND b.play_starts > 0
  WHERE t.play_starts > 0 GROUP BY ALL`;

export const LINK_PARTIALS = {
  user_video_link: {
    kind: 'link',
    name: 'user_video_link',
    description:
      "per user, day and previous day: the user's videos with play starts that day whose latest earlier day (within 29) with play starts was that previous day",
    from: 'user_video_day',
    lookbackDays: 29,
    pairs: USER_VIDEO_PAIRS,
    sql: `SELECT user_id, before_days[1] AS prev_day, count(*) AS videos FROM pairs GROUP BY ALL`,
  },
  video_user_link: {
    kind: 'link',
    name: 'video_user_link',
    description:
      "per video, day and previous two days: the video's viewers with play starts that day whose two latest earlier days (within 29) with play starts were those",
    from: 'user_video_day',
    lookbackDays: 29,
    pairs: USER_VIDEO_PAIRS,
    sql: `SELECT video_id, before_days[1] AS prev_day, before_days[2] AS prev2_day, count(*) AS viewers FROM pairs GROUP BY ALL`,
  },
  video_session_link: {
    kind: 'link',
    name: 'video_session_link',
    description:
      "per video, day and previous day: the video's (user, session) pairs with play starts that day whose latest earlier day (within 29) with play starts was that previous day",
    from: 'video_session_day',
    lookbackDays: 29,
    pairs: `SELECT t.video_id, t.user_id, t.session_id, max(b.day) AS prev_day
      FROM today t LEFT JOIN before b USING (video_id, user_id, session_id) GROUP BY ALL`,
    sql: `SELECT video_id, prev_day, count(*) AS sessions FROM pairs GROUP BY ALL`,
  },
  user_session_link: {
    kind: 'link',
    name: 'user_session_link',
    description:
      "per user, day and previous day: the user's sessions of the day whose latest earlier day (within 29) was that previous day, with the sums of their spans that day and since their last event then",
    from: 'user_session_day',
    lookbackDays: 29,
    pairs: `SELECT t.user_id, t.session_id, t.first_ts, t.last_ts, max(b.day) AS prev_day, arg_max(b.last_ts, b.day) AS prev_last_ts
      FROM today t LEFT JOIN before b USING (user_id, session_id) GROUP BY ALL`,
    sql: `SELECT user_id, prev_day, count(*) AS sessions,
        sum(epoch_us(last_ts) - epoch_us(first_ts))::BIGINT AS span_us,
        sum(epoch_us(last_ts) - epoch_us(prev_last_ts))::BIGINT AS span_since_prev_us
      FROM pairs GROUP BY ALL`,
  },
} as const satisfies Record<string, LinkPartial>;

export type LinkPartialName = keyof typeof LINK_PARTIALS;
export type PartialName = DailyPartialName | HistoryPartialName | WindowPartialName | LinkPartialName;
