// The online record and entity key encodings: the SQL forms (materialization) and the JS forms
// (writeBatch, reads) agree, composite keys never collide, and views are validated.
import { describe, expect, it } from 'vitest';
import { withEngine } from '../../src/engine/duckdb.js';
import { encodeEntityKey, entityKeySql } from '../../src/online/entity-key.js';
import { decodeRecordValues, encodeRecord, RECORD_HEADER_CHARS, recordCreatedTimestamp, recordFeatureTimestamp, recordSql } from '../../src/online/record.js';
import { type OnlineViewSpec, validateView, valueKind } from '../../src/online/view.js';

const ENGINE = { threads: 1, memoryLimit: '256MB' };

const view: OnlineViewSpec = {
  name: 'v',
  version: 1,
  keys: ['a', 'b'],
  ttlSeconds: 60,
  features: [
    { name: 'd', type: 'DOUBLE' },
    { name: 'i', type: 'BIGINT' },
    { name: 's', type: 'VARCHAR' },
    { name: 't', type: 'TIMESTAMP' },
    { name: 'f', type: 'FLOAT[]' },
    { name: 'l', type: 'VARCHAR[]' },
    { name: 'bo', type: 'BOOLEAN' },
    { name: 'da', type: 'DATE' },
    { name: 'de', type: 'DECIMAL(6,2)' },
    { name: 'tl', type: 'TIMESTAMP[]' },
  ],
};
const all = view.features.map((_, i) => i);

describe('entity keys', () => {
  it('keeps a single key as is and escapes the parts of a composite key so that tuples never collide', () => {
    expect(encodeEntityKey(['u|1\\'])).toBe('u|1\\');
    expect(encodeEntityKey(['a', 'b'])).toBe('a|b');
    const tuples = [
      ['a|b', 'c'],
      ['a', 'b|c'],
      ['a\\', '|c'],
      ['a\\|', 'c'],
      ['a', '\\|c'],
      ['', 'a|b|c'],
      ['a|b|c', ''],
    ];
    const encoded = tuples.map(encodeEntityKey);
    expect(new Set(encoded).size).toBe(tuples.length);
  });

  it('encodes the same in DuckDB as in JS', async () => {
    const tuples = [
      ['a|b', 'c'],
      ['a\\', '|c'],
      ['é ✓', "it's"],
      ['', ''],
    ];
    const rows = await withEngine(ENGINE, (db) =>
      db.all<{ k: string }>(
        `SELECT ${entityKeySql(['a', 'b'])} AS k FROM (VALUES ${tuples.map(([a, b]) => `('${a!.replace(/'/g, "''")}', '${b!.replace(/'/g, "''")}', ${tuples.findIndex((t) => t[0] === a)})`).join(', ')}) t(a, b, n) ORDER BY n`,
      ),
    );
    expect(rows.map((r) => r.k)).toEqual(tuples.map(encodeEntityKey));
  });
});

describe('records', () => {
  it('builds in DuckDB a record that decodes to the same values as the JS encoding of them', async () => {
    const cases: [string, unknown[]][] = [
      [
        `1.25::DOUBLE, 9007199254740991::BIGINT, 'x "q" \\ é', TIMESTAMP '2025-01-02 03:04:05.678', [0.5::FLOAT, -2::FLOAT], ['a', NULL], true, DATE '2024-02-29', 12.34::DECIMAL(6,2), [TIMESTAMP '2025-01-01', NULL]`,
        [
          1.25,
          9007199254740991,
          'x "q" \\ é',
          new Date('2025-01-02T03:04:05.678Z'),
          [0.5, -2],
          ['a', null],
          true,
          '2024-02-29',
          12.34,
          [new Date('2025-01-01T00:00:00Z'), null],
        ],
      ],
      [
        `'nan'::DOUBLE, NULL, 'NaN', NULL, ['inf'::FLOAT], [], false, NULL, NULL, []`,
        [Number.NaN, null, 'NaN', null, [Number.POSITIVE_INFINITY], [], false, null, null, []],
      ],
      [
        `'-inf'::DOUBLE, -1, '', TIMESTAMP '1970-01-01', NULL, NULL, NULL, DATE '1970-01-01', -0.5, NULL`,
        [Number.NEGATIVE_INFINITY, -1, '', new Date(0), null, null, null, '1970-01-01', -0.5, null],
      ],
    ];
    for (const [sqlValues, values] of cases) {
      const { r } = await withEngine(ENGINE, (db) =>
        db.one<{ r: string }>(
          `SELECT ${recordSql(view)} AS r FROM (SELECT ${sqlValues}, TIMESTAMP '2025-06-02' AS feature_timestamp, TIMESTAMP '2025-06-02 01:00:00' AS created_timestamp) t(${view.features.map((f) => f.name).join(', ')}, feature_timestamp, created_timestamp)`,
        ),
      );
      const js = encodeRecord(view, Date.parse('2025-06-02T00:00:00Z'), Date.parse('2025-06-02T01:00:00Z'), values);
      expect(r.slice(0, RECORD_HEADER_CHARS)).toBe(js.slice(0, RECORD_HEADER_CHARS));
      expect(recordFeatureTimestamp(r)).toBe(Date.parse('2025-06-02T00:00:00Z'));
      expect(recordCreatedTimestamp(r)).toBe(Date.parse('2025-06-02T01:00:00Z'));
      expect(decodeRecordValues(view, r, all)).toEqual(values);
      expect(decodeRecordValues(view, js, all)).toEqual(values);
    }
  });

  it('orders headers so that a later timestamp is a larger number, and rejects out-of-range timestamps', () => {
    const one = { ...view, keys: ['a'], features: [{ name: 'x', type: 'BIGINT' }] };
    expect(encodeRecord(one, 5, 7, [1])).toBe('j00000000000050000000000007[1]');
    expect(() => encodeRecord(one, 1.5, 0, [1])).toThrow(/featureTimestamp/);
    expect(() => encodeRecord(one, 10_000_000_000_000, 0, [1])).toThrow(/featureTimestamp/);
    expect(() => encodeRecord(one, 0, -1, [1])).toThrow(/createdTimestamp/);
    expect(() => recordFeatureTimestamp('{"not":"a record"}')).toThrow(/not an online record/);
  });

  it('refuses a stored record whose value count does not match the view', () => {
    const one = { ...view, keys: ['a'], features: [{ name: 'x', type: 'BIGINT' }] };
    const two = { ...one, features: [...one.features, { name: 'y', type: 'BIGINT' }] };
    expect(() => decodeRecordValues(two, encodeRecord(one, 0, 0, [1]), [0])).toThrow(/has 1 values, the view declares 2 features/);
  });
});

describe('views', () => {
  it('knows which types it can serve', () => {
    expect(valueKind('BIGINT')).toEqual({ scalar: 'integer', list: false });
    expect(valueKind('float[]')).toEqual({ scalar: 'float', list: true });
    expect(valueKind('DECIMAL(18,3)')).toEqual({ scalar: 'float', list: false });
    expect(valueKind('TIMESTAMP WITH TIME ZONE')).toEqual({ scalar: 'timestamp', list: false });
    expect(() => valueKind('STRUCT(a INT)')).toThrow(/cannot be served online/);
    expect(() => valueKind('INTEGER[][]')).toThrow(/cannot be served online/);
  });

  it('rejects malformed views with the reason', () => {
    const ok: OnlineViewSpec = { name: 'v', version: 1, keys: ['k'], ttlSeconds: 1, features: [{ name: 'x', type: 'DOUBLE' }] };
    expect(() => validateView(ok)).not.toThrow();
    expect(() => validateView({ ...ok, version: 0 })).toThrow(/version must be a whole number >= 1/);
    expect(() => validateView({ ...ok, keys: [] })).toThrow(/at least one entity key/);
    expect(() => validateView({ ...ok, features: [] })).toThrow(/has no features/);
    expect(() => validateView({ ...ok, ttlSeconds: Number.NaN })).toThrow(/ttlSeconds must be > 0/);
    expect(() => validateView({ ...ok, features: [{ name: 'k', type: 'DOUBLE' }] })).toThrow(/column 'k' appears twice/);
    expect(() => validateView({ ...ok, features: [{ name: 'x', type: 'JSON' }] })).toThrow(/feature 'x': type 'JSON' cannot be served online/);
  });
});
