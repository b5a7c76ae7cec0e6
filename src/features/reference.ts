// The slow, obviously correct reference: every feature of a date computed straight from raw silver
// events (a table `events` holding all history), with plain SQL over timestamps, no partials. It is
// the oracle of the property tests and the baseline of the benchmark; it is not used by the pipeline.
import { sqlAsOf } from '../shared/dates.js';

const INTERACTION = "event_type IN ('like', 'share', 'add_to_list')";

export function referenceSql(family: string, date: string): string {
  const asOf = sqlAsOf(date);
  const history = `SELECT * FROM events WHERE event_timestamp < ${asOf}`;
  const window = (days: number) => `(event_timestamp >= ${asOf} - INTERVAL ${days} DAY)`;
  switch (family) {
    case 'user_features':
      return `
        WITH h AS (${history}),
        w AS (SELECT * FROM h WHERE ${window(30)}),
        base AS (
          SELECT user_id,
            coalesce(sum(watch_seconds) FILTER (WHERE ${window(1)}), 0) AS watch_time_1d,
            coalesce(sum(watch_seconds) FILTER (WHERE ${window(7)}), 0) AS watch_time_7d,
            sum(watch_seconds) AS watch_time_30d,
            count(*) FILTER (WHERE ${window(1)} AND event_type = 'play_start') AS video_count_1d,
            count(*) FILTER (WHERE ${window(7)} AND event_type = 'play_start') AS video_count_7d,
            count(*) FILTER (WHERE event_type = 'play_start') AS video_count_30d,
            count(DISTINCT video_id) FILTER (WHERE event_type = 'play_start') AS unique_videos_30d,
            count(DISTINCT session_id) FILTER (WHERE ${window(7)}) AS session_count_7d,
            count(DISTINCT session_id) AS session_count_30d,
            count(*) FILTER (WHERE ${window(7)}) / nullif(count(DISTINCT session_id) FILTER (WHERE ${window(7)}), 0) AS events_per_session_7d,
            count(*) / count(DISTINCT session_id) AS events_per_session_30d,
            count(*) FILTER (WHERE event_type = 'complete') / nullif(count(*) FILTER (WHERE event_type = 'play_start'), 0) AS completion_rate_30d,
            count(*) FILTER (WHERE ${INTERACTION}) / nullif(count(*) FILTER (WHERE event_type = 'play_start'), 0) AS interaction_rate_30d,
            count(DISTINCT category) FILTER (WHERE event_type = 'play_start') AS category_diversity_30d
          FROM w GROUP BY user_id),
        sess AS (
          SELECT user_id, avg(span) AS avg_session_duration_30d
          FROM (SELECT user_id, session_id, (epoch_us(max(event_timestamp)) - epoch_us(min(event_timestamp))) / 1e6 AS span FROM w GROUP BY user_id, session_id)
          GROUP BY user_id),
        cat AS (SELECT user_id, category, sum(watch_seconds) AS watch, count(*) AS n FROM w GROUP BY user_id, category),
        top AS (
          SELECT user_id, category AS top_category_30d FROM (
            SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY round(watch, 6) DESC, n DESC, category ASC) AS rn FROM cat)
          WHERE rn = 1),
        top1 AS (
          SELECT user_id, category AS top_category_1d FROM (
            SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY round(watch, 6) DESC, n DESC, category ASC) AS rn
            FROM (SELECT user_id, category, sum(watch_seconds) AS watch, count(*) AS n FROM w WHERE ${window(1)} GROUP BY user_id, category))
          WHERE rn = 1),
        hist AS (SELECT user_id, sum(watch_seconds) AS total, min(event_timestamp) AS first_ts, max(event_timestamp) AS last_ts FROM h GROUP BY user_id)
        SELECT b.user_id, watch_time_1d, watch_time_7d, watch_time_30d, hist.total AS watch_time_total,
          video_count_1d, video_count_7d, video_count_30d, unique_videos_30d, session_count_7d, session_count_30d,
          events_per_session_7d, events_per_session_30d, avg_session_duration_30d, completion_rate_30d, interaction_rate_30d, top_category_30d, top1.top_category_1d, category_diversity_30d,
          (epoch_us(${asOf}) - epoch_us(hist.last_ts)) / 1e6 / 86400 AS days_since_last_event,
          (epoch_us(${asOf}) - epoch_us(hist.first_ts)) / 1e6 / 86400 AS days_since_first_event
        FROM base b JOIN sess USING (user_id) JOIN top USING (user_id) JOIN hist USING (user_id) LEFT JOIN top1 USING (user_id)`;
    case 'item_features':
      return `
        WITH h AS (${history}),
        w AS (SELECT * FROM h WHERE ${window(30)}),
        plays AS (SELECT * FROM w WHERE event_type = 'play_start'),
        base AS (
          SELECT video_id,
            count(*) FILTER (WHERE ${window(1)} AND event_type = 'play_start') AS view_count_1d,
            count(*) FILTER (WHERE ${window(7)} AND event_type = 'play_start') AS view_count_7d,
            count(*) FILTER (WHERE event_type = 'play_start') AS view_count_30d,
            count(DISTINCT user_id) FILTER (WHERE ${window(7)} AND event_type = 'play_start') AS unique_viewers_7d,
            count(DISTINCT user_id) FILTER (WHERE event_type = 'play_start') AS unique_viewers_30d,
            count(*) FILTER (WHERE event_type = 'complete') AS completion_count_30d,
            coalesce(sum(watch_seconds) FILTER (WHERE ${window(1)}), 0) AS watch_time_1d,
            coalesce(sum(watch_seconds) FILTER (WHERE ${window(7)}), 0) AS watch_time_7d,
            sum(watch_seconds) AS watch_time_30d,
            count(DISTINCT (user_id, session_id)) FILTER (WHERE event_type = 'play_start') AS viewer_sessions_30d,
            count(*) FILTER (WHERE event_type = 'like') AS like_count_30d,
            count(*) FILTER (WHERE event_type = 'share') AS share_count_30d,
            count(*) FILTER (WHERE event_type = 'play_start' AND ${window(14)} AND NOT ${window(7)}) AS p
          FROM w GROUP BY video_id),
        returners AS (
          SELECT video_id, count(*) AS returning_users FROM (
            SELECT video_id, user_id FROM plays GROUP BY video_id, user_id HAVING count(DISTINCT CAST(event_timestamp AS DATE)) >= 2)
          GROUP BY video_id),
        total AS (SELECT video_id, count(*) FILTER (WHERE event_type = 'play_start') AS view_count_total, sum(watch_seconds) AS watch_time_total FROM h GROUP BY video_id)
        SELECT b.video_id, view_count_1d, view_count_7d, view_count_30d, coalesce(total.view_count_total, 0) AS view_count_total,
          unique_viewers_7d, unique_viewers_30d, completion_count_30d,
          completion_count_30d / nullif(view_count_30d, 0) AS completion_rate_30d,
          watch_time_1d, watch_time_7d, watch_time_30d, total.watch_time_total,
          watch_time_30d / nullif(view_count_30d, 0) AS avg_watch_time_30d,
          like_count_30d, share_count_30d,
          (view_count_7d - p) / greatest(p, 1) AS growth_rate_7d,
          coalesce(returners.returning_users, 0) / nullif(unique_viewers_30d, 0) AS return_rate_30d,
          viewer_sessions_30d / nullif(unique_viewers_30d, 0) AS sessions_per_viewer_30d,
          CASE WHEN max(view_count_30d) OVER () = 0 THEN 0 ELSE ln(1 + view_count_30d) / ln(1 + max(view_count_30d) OVER ()) END AS popularity_score,
          view_count_7d / (view_count_7d + p + 1) AS trending_score
        FROM base b LEFT JOIN returners USING (video_id) LEFT JOIN total USING (video_id)`;
    case 'session_features':
      return `
        WITH w AS (SELECT * FROM events WHERE event_timestamp < ${asOf} AND ${window(2)}),
        active AS (SELECT DISTINCT session_id FROM w WHERE ${window(1)}),
        s AS (
          SELECT session_id, min(user_id) AS user_id, min(event_timestamp) AS session_start, max(event_timestamp) AS session_end,
            count(*) AS event_count, count(DISTINCT event_type) AS unique_event_types,
            count(*) FILTER (WHERE event_type = 'play_start') AS play_count,
            count(DISTINCT video_id) AS unique_videos, count(DISTINCT category) AS unique_categories,
            sum(watch_seconds) AS watch_time,
            count(*) FILTER (WHERE event_type = 'complete') AS videos_completed,
            count(*) FILTER (WHERE ${INTERACTION}) AS interaction_count
          FROM w WHERE session_id IN (SELECT session_id FROM active) GROUP BY session_id),
        dev AS (
          SELECT session_id, device_type FROM (
            SELECT session_id, device_type, row_number() OVER (PARTITION BY session_id ORDER BY count(*) DESC, device_type ASC) AS rn
            FROM w WHERE session_id IN (SELECT session_id FROM active) GROUP BY session_id, device_type)
          WHERE rn = 1),
        f AS (
          SELECT *, (epoch_us(session_end) - epoch_us(session_start)) / 1e6 AS duration_seconds,
            videos_completed / nullif(play_count, 0) AS completion_rate
          FROM s)
        SELECT f.session_id, user_id, session_start, session_end, duration_seconds, event_count, unique_event_types, play_count,
          unique_videos, unique_categories, watch_time, videos_completed, completion_rate, interaction_count,
          interaction_count / nullif(play_count, 0) AS interaction_rate,
          duration_seconds / nullif(event_count - 1, 0) AS avg_seconds_between_events,
          dev.device_type,
          0.5 * least(watch_time / 3600, 1) + 0.3 * coalesce(least(completion_rate, 1), 0) + 0.2 * least(interaction_count / 3, 1) AS engagement_score,
          CASE WHEN event_count <= 2 OR duration_seconds < 60 THEN 'bounce'
            WHEN play_count >= 3 AND watch_time >= 3600 THEN 'binge'
            WHEN completion_rate >= 0.5 OR watch_time >= 1200 THEN 'engaged'
            ELSE 'casual' END AS session_type
        FROM f JOIN dev USING (session_id)`;
    case 'temporal_features':
      return `
        WITH w AS (SELECT *, hour(event_timestamp) AS h FROM events WHERE event_timestamp < ${asOf} AND ${window(30)}),
        base AS (
          SELECT user_id,
            count(*) FILTER (WHERE ${window(7)}) AS events_7d,
            count(*) AS events_30d,
            count(DISTINCT CAST(event_timestamp AS DATE)) AS active_days_30d,
            count(*) FILTER (WHERE h >= 5 AND h < 12) / count(*) AS morning_share_30d,
            count(*) FILTER (WHERE h >= 12 AND h < 17) / count(*) AS afternoon_share_30d,
            count(*) FILTER (WHERE h >= 17 AND h < 22) / count(*) AS evening_share_30d,
            count(*) FILTER (WHERE h >= 22 OR h < 5) / count(*) AS night_share_30d,
            count(*) FILTER (WHERE isodow(event_timestamp) IN (6, 7)) / count(*) AS weekend_share_30d
          FROM w GROUP BY user_id),
        ph AS (SELECT user_id, h AS preferred_hour_30d FROM (
          SELECT user_id, h, row_number() OVER (PARTITION BY user_id ORDER BY count(*) DESC, h ASC) AS rn FROM w GROUP BY user_id, h) WHERE rn = 1),
        pd AS (SELECT user_id, dow AS preferred_day_of_week_30d FROM (
          SELECT user_id, isodow(event_timestamp) AS dow, row_number() OVER (PARTITION BY user_id ORDER BY count(*) DESC, isodow(event_timestamp) ASC) AS rn
          FROM w GROUP BY user_id, isodow(event_timestamp)) WHERE rn = 1),
        pp AS (SELECT user_id, period AS preferred_time_period_30d FROM (
          SELECT user_id, period, row_number() OVER (PARTITION BY user_id ORDER BY count(*) DESC, rank ASC) AS rn
          FROM (SELECT user_id, CASE WHEN h >= 5 AND h < 12 THEN 'morning' WHEN h >= 12 AND h < 17 THEN 'afternoon'
                  WHEN h >= 17 AND h < 22 THEN 'evening' ELSE 'night' END AS period,
                CASE WHEN h >= 5 AND h < 12 THEN 1 WHEN h >= 12 AND h < 17 THEN 2 WHEN h >= 17 AND h < 22 THEN 3 ELSE 4 END AS rank FROM w)
          GROUP BY user_id, period, rank) WHERE rn = 1),
        latest AS (SELECT user_id, max(event_timestamp) AS ts FROM events WHERE event_timestamp < ${asOf} GROUP BY user_id)
        SELECT b.user_id, events_7d, events_30d, active_days_30d, events_30d / active_days_30d AS events_per_active_day_30d,
          morning_share_30d, afternoon_share_30d, evening_share_30d, night_share_30d, weekend_share_30d,
          preferred_hour_30d, preferred_day_of_week_30d, preferred_time_period_30d,
          -- strftime's ISO 8601 fields (%u weekday, %V week), not the functions the family uses.
          strftime(latest.ts, '%H')::BIGINT AS last_event_hour, strftime(latest.ts, '%u')::BIGINT AS last_event_day_of_week,
          strftime(latest.ts, '%m')::BIGINT AS last_event_month, strftime(latest.ts, '%Y')::BIGINT AS last_event_year,
          strftime(latest.ts, '%V')::BIGINT AS last_event_week_of_year
        FROM base b JOIN ph USING (user_id) JOIN pd USING (user_id) JOIN pp USING (user_id) JOIN latest USING (user_id)`;
    default:
      throw new Error(`no reference for family '${family}'`);
  }
}

export const REFERENCE_FAMILIES = ['user_features', 'item_features', 'session_features', 'temporal_features'] as const;
