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

/** The reader's output: the file columns, then the partition columns (the `events` view's schema). */
export const SILVER_COLUMNS = [...SILVER_FILE_COLUMNS, { name: 'event_type', type: 'VARCHAR' }, { name: 'event_date', type: 'DATE' }] as const;

/** ISO 3166-1 alpha-2: the officially assigned codes (249). */
export const COUNTRY_CODES: readonly string[] = (
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
  'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP ' +
  'KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT ' +
  'MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW ' +
  'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG ' +
  'UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
).split(' ');
