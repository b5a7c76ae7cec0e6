import { HOURS, WEEKDAYS } from '../partials/definitions.js';
import { CALENDAR, DAY_SECONDS, type FamilyDecl } from '../types.js';

/** The four day parts of the shares, in the order preferred_time_period_30d breaks ties in. */
export const TIME_PERIODS = ['morning', 'afternoon', 'evening', 'night'] as const;

const share = (name: string, description: string) => ({ name, type: 'DOUBLE', min: 0, max: 1, description }) as const;

export const temporalFeatures: FamilyDecl = {
  name: 'temporal_features',
  description: 'When a user watches: activity rhythm by UTC hour and weekday over 7 and 30 days, and the time of the latest event.',
  owner: 'ml-platform',
  version: 1,
  entity: 'user',
  keys: [{ name: 'user_id', type: 'VARCHAR' }],
  ttlSeconds: 2 * DAY_SECONDS,
  windowDays: 30,
  // Listed though `windows` brings them: the code version hashes this declaration as written.
  partials: { user_window: 1, user_hour_window: 1, user_history: 1 },
  windows: [
    { from: 'user_day', column: 'events', op: 'sum', windows: [7, 30] },
    ...WEEKDAYS.map(
      (d) =>
        ({
          from: 'user_day',
          expr: `CASE WHEN isodow(day) = ${d} THEN events ELSE 0 END`,
          name: `events_dow${d}`,
          type: 'BIGINT',
          op: 'sum',
          windows: [30],
        }) as const,
    ),
    ...HOURS.map((h) => ({ from: 'user_hour_day', column: `h${h}`, op: 'sum', windows: [30], as: `h${h}` }) as const),
  ],
  dependsOn: [],
  features: [
    { name: 'events_7d', type: 'BIGINT', min: 0, windowDays: 7, description: 'all events in 7d' },
    { name: 'events_30d', type: 'BIGINT', min: 1, description: 'all events in 30d' },
    { name: 'active_days_30d', type: 'BIGINT', min: 1, max: 30, description: 'distinct event dates in 30d' },
    { name: 'events_per_active_day_30d', type: 'DOUBLE', min: 1, description: 'events_30d / active_days_30d' },
    share('morning_share_30d', 'share of 30d events with UTC hour in [5, 12)'),
    share('afternoon_share_30d', 'share of 30d events with UTC hour in [12, 17)'),
    share('evening_share_30d', 'share of 30d events with UTC hour in [17, 22)'),
    share('night_share_30d', 'share of 30d events with UTC hour in [22, 5)'),
    share('weekend_share_30d', 'share of 30d events on Saturday or Sunday (UTC)'),
    { name: 'preferred_hour_30d', type: 'BIGINT', min: 0, max: 23, description: 'UTC hour 0-23 with the most events in 30d; ties: smallest' },
    {
      name: 'preferred_day_of_week_30d',
      type: 'BIGINT',
      min: 1,
      max: 7,
      description: 'ISO weekday 1 (Monday) - 7 with the most events in 30d; ties: smallest',
    },
    {
      name: 'preferred_time_period_30d',
      type: 'VARCHAR',
      allowed: TIME_PERIODS,
      description:
        "day part with the most events in 30d, by UTC hour as the shares: 'morning' [5, 12), 'afternoon' [12, 17), 'evening' [17, 22), 'night' [22, 5); ties: the first in that order",
    },
    { name: 'last_event_hour', type: 'BIGINT', min: 0, max: 23, description: "UTC hour 0-23 of the user's latest event before as_of" },
    { name: 'last_event_day_of_week', type: 'BIGINT', min: 1, max: 7, description: 'ISO weekday 1 (Monday) - 7 (UTC) of the latest event' },
    { name: 'last_event_month', type: 'BIGINT', min: 1, max: 12, severity: CALENDAR, description: 'month 1-12 (UTC) of the latest event' },
    { name: 'last_event_year', type: 'BIGINT', min: 1970, severity: CALENDAR, description: 'calendar year (UTC) of the latest event' },
    {
      name: 'last_event_week_of_year',
      type: 'BIGINT',
      min: 1,
      max: 53,
      severity: CALENDAR,
      description: 'ISO 8601 week 1-53 (UTC) of the latest event; near 1 January it is a week of the ISO year, which can differ from last_event_year',
    },
  ],
  rules: [
    {
      name: 'shares_sum_to_one',
      description: 'the four day-part shares sum to 1',
      sql: 'abs(morning_share_30d + afternoon_share_30d + evening_share_30d + night_share_30d - 1) < 1e-9',
    },
    { name: 'windows_nested', description: 'events_7d <= events_30d', sql: 'events_7d <= events_30d' },
  ],
  sql: () => `
    WITH days AS (
      SELECT user_id, events_7d, events_30d, days_present AS active_days_30d,
        events_dow6_30d + events_dow7_30d AS weekend_events,
        -- Events by ISO weekday 1-7: list_position finds the first (smallest) of the largest.
        [${WEEKDAYS.map((d) => `events_dow${d}_30d`).join(', ')}] AS by_weekday
      FROM user_window
    ),
    hours AS (
      SELECT user_id, [${HOURS.map((h) => `h${h}`).join(', ')}] AS by_hour FROM user_hour_window
    ),
    -- by_hour[i] holds hour i - 1: morning [5, 12) is [6:12], afternoon [12, 17) is [13:17], evening [17, 22) is [18:22].
    parts AS (
      SELECT user_id,
        list_sum(by_hour[6:12]) AS morning,
        list_sum(by_hour[13:17]) AS afternoon,
        list_sum(by_hour[18:22]) AS evening,
        list_sum(by_hour[23:24]) + list_sum(by_hour[1:5]) AS night,
        list_position(by_hour, list_max(by_hour)) - 1 AS preferred_hour_30d
      FROM hours
    ),
    -- list_position finds the first of the largest: ties go to the earlier day part in TIME_PERIODS.
    periods AS (
      SELECT *, [${TIME_PERIODS.map((p) => `'${p}'`).join(', ')}][list_position([morning, afternoon, evening, night], greatest(morning, afternoon, evening, night))] AS preferred_time_period_30d
      FROM parts
    )
    SELECT d.user_id, d.events_7d, d.events_30d, d.active_days_30d,
      d.events_30d / d.active_days_30d AS events_per_active_day_30d,
      h.morning / d.events_30d AS morning_share_30d,
      h.afternoon / d.events_30d AS afternoon_share_30d,
      h.evening / d.events_30d AS evening_share_30d,
      h.night / d.events_30d AS night_share_30d,
      d.weekend_events / d.events_30d AS weekend_share_30d,
      h.preferred_hour_30d::BIGINT AS preferred_hour_30d,
      list_position(d.by_weekday, list_max(d.by_weekday))::BIGINT AS preferred_day_of_week_30d,
      h.preferred_time_period_30d,
      hour(l.last_ts)::BIGINT AS last_event_hour, isodow(l.last_ts)::BIGINT AS last_event_day_of_week,
      month(l.last_ts)::BIGINT AS last_event_month, year(l.last_ts)::BIGINT AS last_event_year,
      weekofyear(l.last_ts)::BIGINT AS last_event_week_of_year
    FROM days d JOIN periods h USING (user_id) JOIN user_history l USING (user_id)`,
};
