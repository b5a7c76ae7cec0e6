import { CUMULATIVE, DAY_SECONDS, type FamilyDecl } from '../types.js';

const count = (name: string, description: string) => ({ name, type: 'BIGINT', description, min: 0 }) as const;
const seconds = (name: string, description: string) => ({ name, type: 'DOUBLE', description, min: 0 }) as const;
const ratio = (name: string, description: string) => ({ name, type: 'DOUBLE', description, min: 0, nullable: true }) as const;

export const userFeatures: FamilyDecl = {
  name: 'user_features',
  description: "A user's viewing activity over 1, 7 and 30 days and over all history.",
  owner: 'ml-platform',
  version: 1,
  entity: 'user',
  keys: [{ name: 'user_id', type: 'VARCHAR' }],
  ttlSeconds: 2 * DAY_SECONDS,
  windowDays: 30,
  // user_window and user_category_window come with `windows` below; they stay listed because the code
  // version hashes this declaration as written (dropping them would recompute this family's gold).
  partials: { user_window: 1, user_session_link: 30, user_category_window: 1, user_category_day: 1, user_video_link: 30, user_history: 1 },
  windows: [
    { from: 'user_day', column: 'watch_seconds', op: 'sum', windows: [1, 7, 30] },
    { from: 'user_day', column: 'play_starts', op: 'sum', windows: [1, 7, 30] },
    { from: 'user_day', column: 'completes', op: 'sum', windows: [30] },
    { from: 'user_day', column: 'interactions', op: 'sum', windows: [30] },
    // The same sums as temporal_features' (shared, stored once, in the same place in user_window).
    { from: 'user_day', column: 'events', op: 'sum', windows: [7, 30] },
    { from: 'user_category_day', column: 'watch_seconds', op: 'sum', windows: [30] },
    { from: 'user_category_day', column: 'events', op: 'sum', windows: [30] },
    { from: 'user_category_day', column: 'play_starts', op: 'sum', windows: [30] },
  ],
  dependsOn: [],
  features: [
    { ...seconds('watch_time_1d', 'sum of watch_seconds in the 1d window'), windowDays: 1 },
    { ...seconds('watch_time_7d', 'sum of watch_seconds in the 7d window'), windowDays: 7 },
    seconds('watch_time_30d', 'sum of watch_seconds in the 30d window'),
    { ...seconds('watch_time_total', 'sum of watch_seconds over all history'), severity: CUMULATIVE },
    { ...count('video_count_1d', 'play_start events in the 1d window'), windowDays: 1 },
    { ...count('video_count_7d', 'play_start events in the 7d window'), windowDays: 7 },
    count('video_count_30d', 'play_start events in the 30d window'),
    count('unique_videos_30d', 'distinct video_id over play_start events in 30d'),
    { ...count('session_count_7d', 'distinct session_id over all events in 7d'), windowDays: 7 },
    count('session_count_30d', 'distinct session_id over all events in 30d'),
    {
      name: 'events_per_session_7d',
      type: 'DOUBLE',
      min: 1,
      nullable: true,
      windowDays: 7,
      description: 'all events in 7d / session_count_7d; null without events in 7d',
    },
    { name: 'events_per_session_30d', type: 'DOUBLE', min: 1, description: 'all events in 30d / session_count_30d' },
    {
      name: 'avg_session_duration_30d',
      type: 'DOUBLE',
      min: 0,
      description: "mean over the user's sessions in 30d of (last - first event time) in seconds, from events inside the window",
    },
    { ...ratio('completion_rate_30d', 'complete count / play_start count in 30d; null without play_start'), maxNullShare: 0.5 },
    { ...ratio('interaction_rate_30d', '(like + share + add_to_list) count / play_start count in 30d; null without play_start'), maxNullShare: 0.5 },
    {
      name: 'top_category_30d',
      type: 'VARCHAR',
      description: 'category with the largest watch_seconds in 30d (sums compared at 1e-6 s); ties: more events, then name',
    },
    {
      name: 'top_category_1d',
      type: 'VARCHAR',
      nullable: true,
      windowDays: 1,
      description: 'category with the largest watch_seconds in the 1d window, as top_category_30d; null without events that day',
    },
    count('category_diversity_30d', 'distinct category over play_start events in 30d'),
    { name: 'days_since_last_event', type: 'DOUBLE', min: 0, description: '(as_of - latest event time in history) in fractional days' },
    {
      name: 'days_since_first_event',
      type: 'DOUBLE',
      min: 0,
      description: '(as_of - earliest event time in history) in fractional days',
      severity: CUMULATIVE,
    },
  ],
  rules: [
    {
      name: 'windows_nested',
      description: '1d <= 7d <= 30d <= total for watch time and play counts',
      sql: 'watch_time_1d <= watch_time_7d + 1e-6 AND watch_time_7d <= watch_time_30d + 1e-6 AND watch_time_30d <= watch_time_total + 1e-6 AND video_count_1d <= video_count_7d AND video_count_7d <= video_count_30d AND session_count_7d <= session_count_30d',
    },
    { name: 'unique_le_count', description: 'distinct videos never above play starts', sql: 'unique_videos_30d <= video_count_30d' },
    { name: 'first_before_last', description: 'the first event is not after the last', sql: 'days_since_first_event >= days_since_last_event' },
  ],
  sql: ({ date, asOf }) => `
    WITH days AS (
      SELECT user_id,
        watch_seconds_1d AS watch_time_1d, watch_seconds_7d AS watch_time_7d, watch_seconds_30d AS watch_time_30d,
        play_starts_1d AS video_count_1d, play_starts_7d AS video_count_7d, play_starts_30d AS video_count_30d,
        completes_30d, interactions_30d, events_7d, events_30d
      FROM user_window
    ),
    -- A pair's first day in a window is the one whose previous day (link partials) is before the window;
    -- no previous day reads as the earliest date (one comparison instead of IS NULL OR, faster).
    videos AS (
      SELECT user_id, sum(videos) AS unique_videos_30d
      FROM user_video_link WHERE day > ${date} - 30 AND coalesce(prev_day, DATE '0001-01-01') <= ${date} - 30 GROUP BY user_id
    ),
    sessions AS (
      SELECT user_id,
        coalesce(sum(sessions) FILTER (WHERE day > ${date} - 7 AND prev <= ${date} - 7), 0) AS session_count_7d,
        coalesce(sum(sessions) FILTER (WHERE prev <= ${date} - 30), 0) AS session_count_30d,
        -- Telescoping: a session's days in the window add up to its last event time minus its first.
        sum(CASE WHEN prev <= ${date} - 30 THEN span_us ELSE span_since_prev_us END)::DOUBLE
          / sum(sessions) FILTER (WHERE prev <= ${date} - 30) / 1e6 AS avg_session_duration_30d
      FROM (SELECT *, coalesce(prev_day, DATE '0001-01-01') AS prev FROM user_session_link WHERE day > ${date} - 30)
      GROUP BY user_id
    ),
    -- The smallest (-watch, -events, name): the most watched, then the most events, then the first name.
    top_cat AS (
      SELECT user_id,
        arg_min(category, (-round(watch_seconds_30d, 6), -events_30d, category)) AS top_category_30d,
        count(*) FILTER (WHERE play_starts_30d > 0) AS category_diversity_30d
      FROM user_category_window GROUP BY user_id
    ),
    top_cat_1d AS (
      SELECT user_id, arg_min(category, (-round(watch_seconds, 6), -events, category)) AS top_category_1d
      FROM user_category_day WHERE day = ${date} GROUP BY user_id
    )
    SELECT d.user_id,
      d.watch_time_1d, d.watch_time_7d, d.watch_time_30d, h.watch_seconds AS watch_time_total,
      d.video_count_1d, d.video_count_7d, d.video_count_30d,
      coalesce(v.unique_videos_30d, 0) AS unique_videos_30d,
      coalesce(s.session_count_7d, 0) AS session_count_7d, s.session_count_30d,
      CASE WHEN s.session_count_7d > 0 THEN d.events_7d / s.session_count_7d END AS events_per_session_7d,
      d.events_30d / s.session_count_30d AS events_per_session_30d,
      s.avg_session_duration_30d,
      CASE WHEN d.video_count_30d > 0 THEN d.completes_30d / d.video_count_30d END AS completion_rate_30d,
      CASE WHEN d.video_count_30d > 0 THEN d.interactions_30d / d.video_count_30d END AS interaction_rate_30d,
      t.top_category_30d, t1.top_category_1d, t.category_diversity_30d,
      (epoch_us(${asOf}) - epoch_us(h.last_ts)) / 1e6 / 86400 AS days_since_last_event,
      (epoch_us(${asOf}) - epoch_us(h.first_ts)) / 1e6 / 86400 AS days_since_first_event
    FROM days d
    JOIN user_history h USING (user_id)
    JOIN sessions s USING (user_id)
    JOIN top_cat t USING (user_id)
    LEFT JOIN videos v USING (user_id)
    LEFT JOIN top_cat_1d t1 USING (user_id)`,
};
