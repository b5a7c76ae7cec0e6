import { DEVICE_TYPES } from '../../silver/contract.js';
import { DAY_SECONDS, type FamilyDecl, IDENTIFIER } from '../types.js';

export const SESSION_TYPES = ['bounce', 'binge', 'engaged', 'casual'] as const;

const count = (name: string, description: string) => ({ name, type: 'BIGINT', description, min: 0 }) as const;

export const sessionFeatures: FamilyDecl = {
  name: 'session_features',
  description: 'Each session active on the date, over its events in [as_of - 2 days, as_of).',
  owner: 'ml-platform',
  version: 1,
  entity: 'session',
  keys: [{ name: 'session_id', type: 'VARCHAR' }],
  ttlSeconds: 2 * DAY_SECONDS,
  windowDays: 2,
  partials: { session_day: 2 },
  dependsOn: [],
  features: [
    { name: 'user_id', type: 'VARCHAR', description: "the session's user", severity: IDENTIFIER },
    { name: 'session_start', type: 'TIMESTAMP', description: 'first event time (inside the 2-day lookback)' },
    { name: 'session_end', type: 'TIMESTAMP', description: 'last event time' },
    { name: 'duration_seconds', type: 'DOUBLE', min: 0, max: 2 * DAY_SECONDS, description: 'session_end - session_start in seconds' },
    count('event_count', 'events of the session'),
    { ...count('unique_event_types', 'distinct event types'), max: 8 },
    count('play_count', 'play_start events'),
    count('unique_videos', 'distinct videos over all the events'),
    count('unique_categories', 'distinct categories over all the events'),
    { name: 'watch_time', type: 'DOUBLE', min: 0, description: 'sum of watch_seconds' },
    count('videos_completed', 'complete events'),
    {
      name: 'completion_rate',
      type: 'DOUBLE',
      min: 0,
      nullable: true,
      maxNullShare: 0.9,
      description: 'videos_completed / play_count; null without play_start',
    },
    count('interaction_count', 'like + share + add_to_list events'),
    {
      name: 'interaction_rate',
      type: 'DOUBLE',
      min: 0,
      nullable: true,
      maxNullShare: 0.9,
      description: 'interaction_count / play_count (as user_features.interaction_rate_30d: per play start); null without play_start',
    },
    {
      name: 'avg_seconds_between_events',
      type: 'DOUBLE',
      min: 0,
      nullable: true,
      maxNullShare: 0.9,
      description: 'duration_seconds / (event_count - 1); null for a single event',
    },
    { name: 'device_type', type: 'VARCHAR', allowed: DEVICE_TYPES, description: 'most frequent device; ties by name ascending' },
    {
      name: 'engagement_score',
      type: 'DOUBLE',
      min: 0,
      max: 1,
      description: '0.5 * min(watch_time / 3600, 1) + 0.3 * coalesce(least(completion_rate, 1), 0) + 0.2 * min(interaction_count / 3, 1)',
    },
    {
      name: 'session_type',
      type: 'VARCHAR',
      allowed: SESSION_TYPES,
      description:
        "'bounce' (<= 2 events or < 60 s), else 'binge' (>= 3 plays and >= 1 h watched), else 'engaged' (completion_rate >= 0.5 or >= 20 min watched), else 'casual'",
    },
  ],
  rules: [
    { name: 'span', description: 'session_start <= session_end', sql: 'session_start <= session_end' },
    {
      name: 'counts_bounded',
      description: 'plays, completes and distinct videos within the event count',
      sql: 'play_count <= event_count AND videos_completed <= event_count AND unique_videos <= event_count',
    },
  ],
  sql: ({ date }) => `
    -- A session of the date, plus its part of the day before when it crossed midnight (a few percent:
    -- a join finds them, and only they merge their lists). Each day's lists are already distinct.
    WITH s AS (
      SELECT t.session_id,
        least(t.user_id, y.user_id) AS user_id,
        least(t.first_ts, y.first_ts) AS session_start,
        greatest(t.last_ts, y.last_ts) AS session_end,
        t.events + coalesce(y.events, 0) AS event_count,
        len(CASE WHEN y.session_id IS NULL THEN t.event_types ELSE list_distinct(t.event_types || y.event_types) END) AS unique_event_types,
        t.play_starts + coalesce(y.play_starts, 0) AS play_count,
        len(CASE WHEN y.session_id IS NULL THEN t.videos ELSE list_distinct(t.videos || y.videos) END) AS unique_videos,
        len(CASE WHEN y.session_id IS NULL THEN t.categories ELSE list_distinct(t.categories || y.categories) END) AS unique_categories,
        t.watch_seconds + coalesce(y.watch_seconds, 0) AS watch_time,
        t.completes + coalesce(y.completes, 0) AS videos_completed,
        t.interactions + coalesce(y.interactions, 0) AS interaction_count,
        t.n_mobile + coalesce(y.n_mobile, 0) AS n_mobile, t.n_tablet + coalesce(y.n_tablet, 0) AS n_tablet,
        t.n_tv + coalesce(y.n_tv, 0) AS n_tv, t.n_web + coalesce(y.n_web, 0) AS n_web
      FROM (SELECT * FROM session_day WHERE day = ${date}) t
      LEFT JOIN (SELECT * FROM session_day WHERE day = ${date} - 1) y USING (session_id)
    ),
    f AS (
      SELECT *,
        (epoch_us(session_end) - epoch_us(session_start)) / 1e6 AS duration_seconds,
        CASE WHEN play_count > 0 THEN videos_completed / play_count END AS completion_rate
      FROM s
    )
    SELECT session_id, user_id, session_start, session_end, duration_seconds, event_count, unique_event_types,
      play_count, unique_videos, unique_categories, watch_time, videos_completed, completion_rate, interaction_count,
      CASE WHEN play_count > 0 THEN interaction_count / play_count END AS interaction_rate,
      CASE WHEN event_count > 1 THEN duration_seconds / (event_count - 1) END AS avg_seconds_between_events,
      -- most frequent device; the CASE tests names in alphabetical order, so ties go to the first name
      CASE greatest(n_mobile, n_tablet, n_tv, n_web)
        WHEN n_mobile THEN 'mobile' WHEN n_tablet THEN 'tablet' WHEN n_tv THEN 'tv' ELSE 'web'
      END AS device_type,
      0.5 * least(watch_time / 3600, 1) + 0.3 * coalesce(least(completion_rate, 1), 0) + 0.2 * least(interaction_count / 3, 1) AS engagement_score,
      CASE
        WHEN event_count <= 2 OR duration_seconds < 60 THEN 'bounce'
        WHEN play_count >= 3 AND watch_time >= 3600 THEN 'binge'
        WHEN completion_rate >= 0.5 OR watch_time >= 1200 THEN 'engaged'
        ELSE 'casual'
      END AS session_type
    FROM f`,
};
