// Small random silver for property tests, made in DuckDB from a seed: sessions crossing midnight,
// empty days, frequent ties (watch seconds in half-second steps, few events per user), users that
// disappear and come back. Written to the lake in the silver layout.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Engine, sqlStr } from '../../src/engine/duckdb.js';
import { commitPartition, type Lake, paths } from '../../src/lake/index.js';
import { addDays, dateRange } from '../../src/shared/dates.js';
import { EVENT_TYPES, SILVER_FILE_COLUMNS } from '../../src/silver/contract.js';

export interface RandomSilverOptions {
  seed: number;
  start: string;
  days: number;
  sessions: number;
  users: number;
  videos: number;
  /** Day offsets with no events (their partitions exist, empty). */
  emptyDays: number[];
}

/** Creates table `all_events` (every column of silver plus event_type and event_date). */
export async function makeRandomEvents(db: Engine, o: RandomSilverOptions): Promise<void> {
  const u = (salt: number) => `(hash(s, ${o.seed}, ${salt}) % 1000003) / 1000003.0`;
  const ue = (salt: number) => `(hash(s, i, ${o.seed}, ${salt}) % 1000003) / 1000003.0`;
  await db.run(`CREATE OR REPLACE TABLE sessions AS
    SELECT s,
      floor(${u(1)} * ${o.users})::INT AS user_num,
      TIMESTAMP '${o.start} 00:00:00' + to_microseconds(floor(${u(2)} * ${o.days} * 86400e6)::BIGINT) AS start_ts,
      1 + floor(${u(3)} * 7)::INT AS n_events,
      ['mobile', 'tablet', 'tv', 'web'][1 + floor(${u(4)} * 4)::INT] AS device,
      ['US', 'FR', 'BR'][1 + floor(${u(5)} * 3)::INT] AS country
    FROM range(${o.sessions}) t(s)`);
  await db.run(`CREATE OR REPLACE TABLE raw AS
    SELECT s, i, user_num, device, country,
      -- events of a session spread over up to ~4 hours each, so sessions cross midnight
      start_ts + to_microseconds(floor(i * ${ue(6)} * 4 * 3600e6)::BIGINT) AS event_timestamp,
      floor(${ue(7)} * ${o.videos})::INT AS video_num,
      CASE WHEN i = 0 THEN 'play_start' ELSE ${sqlStr('')} || ['play_start', 'heartbeat', 'pause', 'seek', 'complete', 'like', 'share', 'add_to_list', 'heartbeat', 'play_start'][1 + floor(${ue(8)} * 10)::INT] END AS event_type,
      floor(${ue(9)} * 21) * 0.5 AS w
    FROM sessions, LATERAL (SELECT unnest(range(n_events)) AS i)`);
  const empty = o.emptyDays.length ? `AND CAST(event_timestamp AS DATE) NOT IN (${o.emptyDays.map((d) => `DATE '${addDays(o.start, d)}'`).join(', ')})` : '';
  await db.run(`CREATE OR REPLACE TABLE all_events AS
    SELECT 'e' || s || '-' || i AS event_id,
      event_timestamp,
      'u' || user_num AS user_id,
      's' || s AS session_id,
      'v' || video_num AS video_id,
      'c' || (video_num % 4) AS category,
      CASE WHEN event_type IN ('play_start', 'like', 'share', 'add_to_list') THEN 0.0 ELSE w END AS watch_seconds,
      least(w * 3, 100.0 + video_num * 10) AS play_position_seconds,
      100.0 + video_num * 10 AS video_duration_seconds,
      device AS device_type,
      country,
      event_type,
      CAST(event_timestamp AS DATE) AS event_date
    FROM raw
    WHERE event_timestamp < TIMESTAMP '${addDays(o.start, o.days)} 00:00:00'
      ${empty}
      -- users 0, 5, 10, ... vanish for days 10..24 and come back
      AND NOT (user_num % 5 = 0 AND event_timestamp >= TIMESTAMP '${addDays(o.start, 10)} 00:00:00' AND event_timestamp < TIMESTAMP '${addDays(o.start, 25)} 00:00:00')`);
}

/** Writes table rows to silver partitions of the given dates (every date gets a committed partition). */
export async function writeSilver(lake: Lake, db: Engine, table: string, dates: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gold-silver-fixture-'));
  const columns = [...SILVER_FILE_COLUMNS.map((c) => c.name)].join(', ');
  for (const d of dates) {
    const present = await db.all<{ event_type: string }>(`SELECT DISTINCT event_type FROM ${table} WHERE event_date = DATE '${d}'`);
    for (const { event_type } of present) {
      if (!(EVENT_TYPES as readonly string[]).includes(event_type)) continue;
      const file = join(dir, `${d}-${event_type}.parquet`);
      await db.run(
        `COPY (SELECT ${columns} FROM ${table} WHERE event_date = DATE '${d}' AND event_type = ${sqlStr(event_type)} ORDER BY event_timestamp) TO ${sqlStr(file)} (FORMAT parquet)`,
      );
      await commitPartition(lake, paths.silverPartition(d, event_type), [{ localPath: file }]);
    }
    await lake.write(`${paths.silverDate(d)}/_SUCCESS`, '');
  }
}

export async function writeRandomSilver(lake: Lake, db: Engine, o: RandomSilverOptions): Promise<string[]> {
  await makeRandomEvents(db, o);
  const dates = dateRange(o.start, addDays(o.start, o.days - 1));
  await writeSilver(lake, db, 'all_events', dates);
  return dates;
}
