// The silver event contract (../shared/spec/silver.md), declared once and used by the generator, the
// reader, quarantine and the tests.

export const EVENT_TYPES = ['play_start', 'heartbeat', 'pause', 'seek', 'complete', 'like', 'share', 'add_to_list'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const DEVICE_TYPES = ['mobile', 'tv', 'web', 'tablet'] as const;

/** Event types that carry no watch time. */
export const ZERO_WATCH_EVENT_TYPES: readonly EventType[] = ['play_start', 'like', 'share', 'add_to_list'];

/** Columns stored in the Parquet files, with their DuckDB types (partition columns excluded). */
export const SILVER_FILE_COLUMNS = [
  { name: 'event_id', type: 'VARCHAR' },
  { name: 'event_timestamp', type: 'TIMESTAMP' },
  { name: 'user_id', type: 'VARCHAR' },
  { name: 'session_id', type: 'VARCHAR' },
  { name: 'video_id', type: 'VARCHAR' },
  { name: 'category', type: 'VARCHAR' },
  { name: 'watch_seconds', type: 'DOUBLE' },
  { name: 'play_position_seconds', type: 'DOUBLE' },
  { name: 'video_duration_seconds', type: 'DOUBLE' },
  { name: 'device_type', type: 'VARCHAR' },
  { name: 'country', type: 'VARCHAR' },
] as const;

/** Hive partition columns of the layout silver/events/event_date=YYYY-MM-DD/event_type=<type>/. */
export const SILVER_PARTITION_COLUMNS = [
  { name: 'event_date', type: 'DATE' },
  { name: 'event_type', type: 'VARCHAR' },
] as const;

export type SilverColumn = (typeof SILVER_FILE_COLUMNS)[number]['name'] | (typeof SILVER_PARTITION_COLUMNS)[number]['name'];
