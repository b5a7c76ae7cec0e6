// The silver rules as SQL predicates, evaluated by DuckDB on single rows (no lake): each rule catches
// what it names and nothing else, boundaries are accepted, NULLs trip only the null rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { COUNTRY_CODES, DEVICE_TYPES, EVENT_TYPES, SILVER_COLUMNS } from '../../src/silver/contract.js';
import {
  brokenRowConditionsSql,
  brokenRowRulesSql,
  firstBrokenRowRuleSql,
  type RowRule,
  type RuleContext,
  SILVER_RULES,
  sqlTimestamp,
} from '../../src/silver/rules.js';

const RUN_TIME = new Date('2024-03-02T06:00:00Z');
type Col = (typeof SILVER_COLUMNS)[number]['name'];

const VALID: Record<Col, string> = {
  event_id: "'e1'",
  event_timestamp: "TIMESTAMP '2024-03-01 12:00:00'",
  user_id: "'u1'",
  session_id: "'s1'",
  video_id: "'v1'",
  category: "'news'",
  watch_seconds: '10',
  play_position_seconds: '20',
  video_duration_seconds: '100',
  device_type: "'web'",
  country: "'FR'",
  event_type: "'heartbeat'",
  event_date: "DATE '2024-03-01'",
};

let db: Engine;
beforeAll(async () => {
  db = await Engine.create({ threads: 1, memoryLimit: '256MB' });
});
afterAll(() => db.close());

const ROW_RULES = SILVER_RULES.filter((r): r is (typeof SILVER_RULES)[number] & RowRule => r.scope === 'row');
const anyTrue = (conditions: string[]): string => `(${conditions.map((c) => `(${c})`).join(' OR ')}) IS TRUE`;
/** Every rule a row breaks, from each rule's conditions (the reader's search) rather than its predicate. */
const brokenByConditions = (ctx: RuleContext): string =>
  `list_filter([${ROW_RULES.map((r) => `CASE WHEN ${anyTrue(r.anyOf?.(ctx) ?? [r.predicate(ctx)])} THEN '${r.name}' END`).join(', ')}], x -> x IS NOT NULL)`;

/** [first rule broken or null, all rules broken] of one row. */
async function verdict(o: Partial<Record<Col, string>>): Promise<[string | null, string[]]> {
  const v = { ...VALID, ...o };
  const row = SILVER_COLUMNS.map((c) => `CAST(${v[c.name]} AS ${c.type}) AS ${c.name}`).join(', ');
  // The same row as one of a file whose partition values are known (the reader's form) must get the same verdict.
  const partition = { eventType: v.event_type.slice(1, -1), eventDate: /'(.*)'/.exec(v.event_date)![1]! };
  // So must each rule's conditions, and the union of all of them must be the rows that break some rule.
  const r = await db.one<{
    first: string | null;
    inFile: string | null;
    all: string[];
    byConditions: string[];
    byConditionsInFile: string[];
    suspect: boolean;
    suspectInFile: boolean;
  }>(
    `SELECT ${firstBrokenRowRuleSql({ runTime: RUN_TIME })} AS first,
      ${firstBrokenRowRuleSql({ runTime: RUN_TIME, partition })} AS inFile,
      ${brokenRowRulesSql({ runTime: RUN_TIME })} AS all,
      ${brokenByConditions({ runTime: RUN_TIME })} AS byConditions,
      ${brokenByConditions({ runTime: RUN_TIME, partition })} AS byConditionsInFile,
      ${anyTrue(brokenRowConditionsSql({ runTime: RUN_TIME }))} AS suspect,
      ${anyTrue(brokenRowConditionsSql({ runTime: RUN_TIME, partition }))} AS suspectInFile
    FROM (SELECT ${row})`,
  );
  expect(r.inFile).toBe(r.first);
  expect(r.byConditions).toEqual(r.all);
  expect(r.byConditionsInFile).toEqual(r.all);
  expect(r.suspect).toBe(r.first !== null);
  expect(r.suspectInFile).toBe(r.first !== null);
  return [r.first, r.all];
}

describe('silver row rules', () => {
  const alone: [string, Partial<Record<Col, string>>][] = [
    ['null_key', { event_id: 'NULL' }],
    ['null_key', { event_timestamp: 'NULL' }],
    ['null_key', { user_id: 'NULL' }],
    ['null_key', { session_id: 'NULL' }],
    ['null_key', { video_id: 'NULL' }],
    ['null_value', { category: 'NULL' }],
    ['null_value', { watch_seconds: 'NULL' }],
    ['null_value', { play_position_seconds: 'NULL' }],
    ['null_value', { video_duration_seconds: 'NULL' }],
    ['unknown_event_type', { event_type: "'buffering'" }],
    ['timestamp_in_future', { event_timestamp: "TIMESTAMP '2024-03-02 06:00:00.000001'", event_date: "DATE '2024-03-02'" }],
    ['timestamp_outside_partition', { event_timestamp: "TIMESTAMP '2024-03-02 00:00:00'" }],
    ['timestamp_outside_partition', { event_timestamp: "TIMESTAMP '2024-02-29 23:59:59.999999'" }],
    ['non_finite_number', { watch_seconds: "'NaN'" }],
    ['non_finite_number', { video_duration_seconds: "'Infinity'" }],
    ['nonpositive_duration', { video_duration_seconds: '0', play_position_seconds: '0' }],
    ['negative_watch_seconds', { watch_seconds: '-0.001' }],
    ['unexpected_watch_seconds', { event_type: "'play_start'" }],
    ['unexpected_watch_seconds', { event_type: "'like'" }],
    ['negative_position', { play_position_seconds: '-1' }],
    ['position_beyond_duration', { play_position_seconds: '100.5' }],
    ['unknown_device_type', { device_type: "'smartwatch'" }],
    ['unknown_device_type', { device_type: 'NULL' }],
    ['bad_country', { country: "'XX'" }],
    ['bad_country', { country: "'fr'" }],
    ['bad_country', { country: 'NULL' }],
  ];

  it.each(alone)('%s catches %j, and only it', async (rule, o) => {
    expect(await verdict(o)).toEqual([rule, [rule]]);
  });

  it('accepts valid rows at the boundaries', async () => {
    for (const t of EVENT_TYPES) {
      const watch = ['play_start', 'like', 'share', 'add_to_list'].includes(t) ? '0' : '10';
      expect(await verdict({ event_type: `'${t}'`, watch_seconds: watch })).toEqual([null, []]);
    }
    for (const d of DEVICE_TYPES) expect(await verdict({ device_type: `'${d}'` })).toEqual([null, []]);
    expect(await verdict({ watch_seconds: '0', play_position_seconds: '0' })).toEqual([null, []]);
    expect(await verdict({ play_position_seconds: '100' })).toEqual([null, []]);
    expect(await verdict({ event_timestamp: "TIMESTAMP '2024-03-01 00:00:00'" })).toEqual([null, []]);
    expect(await verdict({ event_timestamp: "TIMESTAMP '2024-03-01 23:59:59.999999'" })).toEqual([null, []]);
    expect(await verdict({ event_timestamp: "TIMESTAMP '2024-03-02 06:00:00'", event_date: "DATE '2024-03-02'" })).toEqual([null, []]);
  });

  it('names the first rule broken and lists all of them', async () => {
    expect(await verdict({ user_id: 'NULL', watch_seconds: '-1', country: "'XX'" })).toEqual([
      'null_key',
      ['null_key', 'negative_watch_seconds', 'bad_country'],
    ]);
    expect(await verdict({ event_timestamp: "TIMESTAMP '2030-01-01 00:00:00'" })).toEqual([
      'timestamp_in_future',
      ['timestamp_in_future', 'timestamp_outside_partition'],
    ]);
    expect(await verdict({ video_duration_seconds: '-5' })).toEqual(['nonpositive_duration', ['nonpositive_duration', 'position_beyond_duration']]);
    expect(await verdict({ play_position_seconds: "'Infinity'" })).toEqual(['non_finite_number', ['non_finite_number', 'position_beyond_duration']]);
  });

  it('declares unique names, the range rule last', () => {
    const names = SILVER_RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(SILVER_RULES.filter((r) => r.scope === 'range').map((r) => r.name)).toEqual(['duplicate_event_id']);
    expect(SILVER_RULES[SILVER_RULES.length - 1]!.scope).toBe('range');
  });

  it('knows the ISO 3166-1 alpha-2 codes', () => {
    expect(COUNTRY_CODES).toHaveLength(249);
    expect(new Set(COUNTRY_CODES).size).toBe(249);
    for (const c of ['US', 'GB', 'BR', 'IN', 'JP', 'ZA']) expect(COUNTRY_CODES).toContain(c);
    expect(COUNTRY_CODES).not.toContain('UK');
  });

  it('writes run times as UTC microsecond timestamps', () => {
    expect(sqlTimestamp(new Date('2024-03-02T06:00:00.123Z'))).toBe("TIMESTAMP '2024-03-02 06:00:00.123'");
  });
});
