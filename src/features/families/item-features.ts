import { CUMULATIVE, DAY_SECONDS, type FamilyDecl, HEAVY_TAILED, SCALED_BY_DATE_MAXIMUM } from '../types.js';

const count = (name: string, description: string) => ({ name, type: 'BIGINT', description, min: 0 }) as const;

export const itemFeatures: FamilyDecl = {
  name: 'item_features',
  description: "A video's audience, completion and momentum over 1, 7 and 30 days and over all history.",
  owner: 'ml-platform',
  version: 1,
  entity: 'video',
  keys: [{ name: 'video_id', type: 'VARCHAR' }],
  ttlSeconds: 2 * DAY_SECONDS,
  windowDays: 30,
  // Audiences follow a power law (a few videos take most views): far values and a large skew are its shape.
  severity: HEAVY_TAILED,
  partials: { video_day: 30, video_user_link: 30, video_history: 1, video_session_link: 30 },
  // video_window: watch seconds of the date and of the last 7 days (30 days come from video_day itself).
  windows: [{ from: 'video_day', column: 'watch_seconds', op: 'sum', windows: [1, 7] }],
  dependsOn: [],
  features: [
    { ...count('view_count_1d', 'play_start events in the 1d window'), windowDays: 1 },
    { ...count('view_count_7d', 'play_start events in the 7d window'), windowDays: 7 },
    count('view_count_30d', 'play_start events in the 30d window'),
    { ...count('view_count_total', 'play_start events over all history'), severity: CUMULATIVE },
    { ...count('unique_viewers_7d', 'distinct user_id over play_start in 7d'), windowDays: 7 },
    count('unique_viewers_30d', 'distinct user_id over play_start in 30d'),
    count('completion_count_30d', 'complete events in 30d'),
    {
      name: 'completion_rate_30d',
      type: 'DOUBLE',
      min: 0,
      nullable: true,
      maxNullShare: 0.5,
      description: 'completion_count_30d / view_count_30d; null without views',
    },
    { name: 'watch_time_1d', type: 'DOUBLE', min: 0, windowDays: 1, description: 'sum of watch_seconds in the 1d window' },
    { name: 'watch_time_7d', type: 'DOUBLE', min: 0, windowDays: 7, description: 'sum of watch_seconds in the 7d window' },
    { name: 'watch_time_30d', type: 'DOUBLE', min: 0, description: 'sum of watch_seconds in 30d' },
    { name: 'watch_time_total', type: 'DOUBLE', min: 0, severity: CUMULATIVE, description: 'sum of watch_seconds over all history' },
    {
      name: 'avg_watch_time_30d',
      type: 'DOUBLE',
      min: 0,
      nullable: true,
      maxNullShare: 0.5,
      description: 'watch_time_30d / view_count_30d; null without views',
    },
    count('like_count_30d', 'like events in 30d'),
    count('share_count_30d', 'share events in 30d'),
    {
      name: 'growth_rate_7d',
      type: 'DOUBLE',
      min: -1,
      windowDays: 14,
      description: '(view_count_7d - p) / max(p, 1), p = play_start count in [as_of - 14d, as_of - 7d)',
    },
    {
      name: 'return_rate_30d',
      type: 'DOUBLE',
      min: 0,
      max: 1,
      nullable: true,
      maxNullShare: 0.5,
      description: 'users with play_start of the video on 2 or more distinct dates in 30d / unique_viewers_30d',
    },
    {
      name: 'sessions_per_viewer_30d',
      type: 'DOUBLE',
      min: 1,
      nullable: true,
      maxNullShare: 0.5,
      description:
        'average sessions per viewer: distinct (user_id, session_id) pairs with a play_start of the video in 30d / unique_viewers_30d; null without viewers',
    },
    {
      name: 'popularity_score',
      type: 'DOUBLE',
      min: 0,
      max: 1,
      severity: SCALED_BY_DATE_MAXIMUM,
      description: 'ln(1 + view_count_30d) / ln(1 + the largest view_count_30d of the date); 0 when no video was played',
    },
    {
      name: 'trending_score',
      type: 'DOUBLE',
      min: 0,
      max: 1,
      windowDays: 14,
      description: 'view_count_7d / (view_count_7d + p + 1), p as in growth_rate_7d: near 1 when last week dominates the week before',
    },
  ],
  rules: [
    {
      name: 'windows_nested',
      description: 'views 1d <= 7d <= 30d <= total; viewers 7d <= 30d',
      sql: 'view_count_1d <= view_count_7d AND view_count_7d <= view_count_30d AND view_count_30d <= view_count_total AND unique_viewers_7d <= unique_viewers_30d',
    },
    {
      name: 'watch_time_nested',
      description: 'watch time 1d <= 7d <= 30d <= total',
      sql: 'watch_time_1d <= watch_time_7d + 1e-6 AND watch_time_7d <= watch_time_30d + 1e-6 AND watch_time_30d <= watch_time_total + 1e-6',
    },
    { name: 'viewers_le_views', description: 'distinct viewers never above views', sql: 'unique_viewers_30d <= view_count_30d' },
  ],
  sql: ({ date }) => `
    WITH days AS (
      SELECT video_id,
        coalesce(sum(play_starts) FILTER (WHERE day = ${date}), 0)::BIGINT AS view_count_1d,
        coalesce(sum(play_starts) FILTER (WHERE day > ${date} - 7), 0)::BIGINT AS view_count_7d,
        coalesce(sum(play_starts) FILTER (WHERE day > ${date} - 30), 0)::BIGINT AS view_count_30d,
        coalesce(sum(play_starts) FILTER (WHERE day > ${date} - 14 AND day <= ${date} - 7), 0)::BIGINT AS p,
        coalesce(sum(completes) FILTER (WHERE day > ${date} - 30), 0)::BIGINT AS completion_count_30d,
        coalesce(sum(watch_seconds) FILTER (WHERE day > ${date} - 30), 0) AS watch_time_30d,
        coalesce(sum(likes) FILTER (WHERE day > ${date} - 30), 0)::BIGINT AS like_count_30d,
        coalesce(sum(shares) FILTER (WHERE day > ${date} - 30), 0)::BIGINT AS share_count_30d,
        count(*) FILTER (WHERE day > ${date} - 30) AS active_days_30d
      FROM video_day WHERE day > ${date} - 30 GROUP BY video_id
    ),
    -- Per viewer, from the link partial: the first day in a window has its previous day before it; the
    -- second day in the 30d window (a return) has its previous day inside and the one before that outside.
    -- No previous day reads as the earliest date (one comparison instead of IS NULL OR, faster).
    viewers AS (
      SELECT video_id,
        coalesce(sum(viewers) FILTER (WHERE day > ${date} - 7 AND prev <= ${date} - 7), 0) AS unique_viewers_7d,
        coalesce(sum(viewers) FILTER (WHERE prev <= ${date} - 30), 0) AS unique_viewers_30d,
        coalesce(sum(viewers) FILTER (WHERE prev > ${date} - 30 AND prev2 <= ${date} - 30), 0) AS returning_30d
      FROM (SELECT video_id, day, viewers, coalesce(prev_day, DATE '0001-01-01') AS prev, coalesce(prev2_day, DATE '0001-01-01') AS prev2
            FROM video_user_link WHERE day > ${date} - 30)
      GROUP BY video_id
    ),
    -- Distinct (user, session) pairs in 30d from the link partial, as unique_viewers_30d: a pair's first day in the window.
    sessions AS (
      SELECT video_id, sum(sessions) AS sessions_30d
      FROM video_session_link WHERE day > ${date} - 30 AND coalesce(prev_day, DATE '0001-01-01') <= ${date} - 30 GROUP BY video_id
    )
    SELECT d.video_id,
      d.view_count_1d, d.view_count_7d, d.view_count_30d, h.play_starts AS view_count_total,
      coalesce(v.unique_viewers_7d, 0) AS unique_viewers_7d, coalesce(v.unique_viewers_30d, 0) AS unique_viewers_30d,
      d.completion_count_30d,
      CASE WHEN d.view_count_30d > 0 THEN d.completion_count_30d / d.view_count_30d END AS completion_rate_30d,
      coalesce(w.watch_seconds_1d, 0)::DOUBLE AS watch_time_1d, coalesce(w.watch_seconds_7d, 0)::DOUBLE AS watch_time_7d,
      d.watch_time_30d, h.watch_seconds::DOUBLE AS watch_time_total,
      CASE WHEN d.view_count_30d > 0 THEN d.watch_time_30d / d.view_count_30d END AS avg_watch_time_30d,
      d.like_count_30d, d.share_count_30d,
      (d.view_count_7d - d.p) / greatest(d.p, 1) AS growth_rate_7d,
      CASE WHEN v.unique_viewers_30d > 0 THEN v.returning_30d / v.unique_viewers_30d END AS return_rate_30d,
      CASE WHEN v.unique_viewers_30d > 0 THEN s.sessions_30d / v.unique_viewers_30d END AS sessions_per_viewer_30d,
      coalesce(ln(1 + d.view_count_30d) / nullif(ln(1 + max(d.view_count_30d) OVER ()), 0), 0) AS popularity_score,
      d.view_count_7d / (d.view_count_7d + d.p + 1) AS trending_score
    FROM days d
    JOIN video_history h USING (video_id)
    LEFT JOIN viewers v USING (video_id)
    LEFT JOIN video_window w USING (video_id)
    LEFT JOIN sessions s USING (video_id)`,
};
