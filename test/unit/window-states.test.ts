// The window states, their SQL and the families' code versions as they were before window
// aggregations were declared in the families (issue 18): the states derived from the families must be
// these, so that no lake's partials or gold are recomputed by the change.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { FAMILIES } from '../../src/features/families/index.js';
import {
  DAILY_PARTIALS,
  type DailyPartial,
  type DailyPartialName,
  HISTORY_PARTIALS,
  type HistoryPartialName,
  LINK_PARTIALS,
  type LinkPartialName,
  type PartialName,
  type WindowPartialName,
  windowFoldSql,
} from '../../src/features/partials/definitions.js';
import { deriveWindowPartials, familyPartials, partialSql, WINDOW_PARTIALS } from '../../src/features/partials/windows.js';
import type { FamilyDecl } from '../../src/features/types.js';
import { familyCodeVersion } from '../../src/features/version.js';
import { SILVER_COLUMNS } from '../../src/silver/contract.js';
import { toyFamily } from '../support/toy-family.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

const WINDOW_STATES_BEFORE = {
  user_window: {
    from: 'user_day',
    keys: ['user_id'],
    sums: {
      watch_seconds_1d: { expr: 'watch_seconds', type: 'DECIMAL(38, 6)', days: 1 },
      watch_seconds_7d: { expr: 'watch_seconds', type: 'DECIMAL(38, 6)', days: 7 },
      watch_seconds_30d: { expr: 'watch_seconds', type: 'DECIMAL(38, 6)', days: 30 },
      play_starts_1d: { expr: 'play_starts', type: 'BIGINT', days: 1 },
      play_starts_7d: { expr: 'play_starts', type: 'BIGINT', days: 7 },
      play_starts_30d: { expr: 'play_starts', type: 'BIGINT', days: 30 },
      completes_30d: { expr: 'completes', type: 'BIGINT', days: 30 },
      interactions_30d: { expr: 'interactions', type: 'BIGINT', days: 30 },
      events_7d: { expr: 'events', type: 'BIGINT', days: 7 },
      events_30d: { expr: 'events', type: 'BIGINT', days: 30 },
      events_dow1_30d: { expr: 'CASE WHEN isodow(day) = 1 THEN events ELSE 0 END', type: 'BIGINT', days: 30 },
      events_dow2_30d: { expr: 'CASE WHEN isodow(day) = 2 THEN events ELSE 0 END', type: 'BIGINT', days: 30 },
      events_dow3_30d: { expr: 'CASE WHEN isodow(day) = 3 THEN events ELSE 0 END', type: 'BIGINT', days: 30 },
      events_dow4_30d: { expr: 'CASE WHEN isodow(day) = 4 THEN events ELSE 0 END', type: 'BIGINT', days: 30 },
      events_dow5_30d: { expr: 'CASE WHEN isodow(day) = 5 THEN events ELSE 0 END', type: 'BIGINT', days: 30 },
      events_dow6_30d: { expr: 'CASE WHEN isodow(day) = 6 THEN events ELSE 0 END', type: 'BIGINT', days: 30 },
      events_dow7_30d: { expr: 'CASE WHEN isodow(day) = 7 THEN events ELSE 0 END', type: 'BIGINT', days: 30 },
    },
  },
  user_hour_window: {
    from: 'user_hour_day',
    keys: ['user_id'],
    sums: {
      h0: { expr: 'h0', type: 'BIGINT', days: 30 },
      h1: { expr: 'h1', type: 'BIGINT', days: 30 },
      h2: { expr: 'h2', type: 'BIGINT', days: 30 },
      h3: { expr: 'h3', type: 'BIGINT', days: 30 },
      h4: { expr: 'h4', type: 'BIGINT', days: 30 },
      h5: { expr: 'h5', type: 'BIGINT', days: 30 },
      h6: { expr: 'h6', type: 'BIGINT', days: 30 },
      h7: { expr: 'h7', type: 'BIGINT', days: 30 },
      h8: { expr: 'h8', type: 'BIGINT', days: 30 },
      h9: { expr: 'h9', type: 'BIGINT', days: 30 },
      h10: { expr: 'h10', type: 'BIGINT', days: 30 },
      h11: { expr: 'h11', type: 'BIGINT', days: 30 },
      h12: { expr: 'h12', type: 'BIGINT', days: 30 },
      h13: { expr: 'h13', type: 'BIGINT', days: 30 },
      h14: { expr: 'h14', type: 'BIGINT', days: 30 },
      h15: { expr: 'h15', type: 'BIGINT', days: 30 },
      h16: { expr: 'h16', type: 'BIGINT', days: 30 },
      h17: { expr: 'h17', type: 'BIGINT', days: 30 },
      h18: { expr: 'h18', type: 'BIGINT', days: 30 },
      h19: { expr: 'h19', type: 'BIGINT', days: 30 },
      h20: { expr: 'h20', type: 'BIGINT', days: 30 },
      h21: { expr: 'h21', type: 'BIGINT', days: 30 },
      h22: { expr: 'h22', type: 'BIGINT', days: 30 },
      h23: { expr: 'h23', type: 'BIGINT', days: 30 },
    },
  },
  user_category_window: {
    from: 'user_category_day',
    keys: ['user_id', 'category'],
    sums: {
      watch_seconds_30d: { expr: 'watch_seconds', type: 'DECIMAL(38, 6)', days: 30 },
      events_30d: { expr: 'events', type: 'BIGINT', days: 30 },
      play_starts_30d: { expr: 'play_starts', type: 'BIGINT', days: 30 },
    },
  },
  // Added by issue 25 (seed parity): item_features' watch time over 1 and 7 days.
  video_window: {
    from: 'video_day',
    keys: ['video_id'],
    sums: {
      watch_seconds_1d: { expr: 'watch_seconds', type: 'DECIMAL(38, 6)', days: 1 },
      watch_seconds_7d: { expr: 'watch_seconds', type: 'DECIMAL(38, 6)', days: 7 },
    },
  },
};

/**
 * sha256 of partialSql, 16 hex digits: what build.ts records as a state's or link's sqlHash. Updated
 * deliberately by issue 25 (seed parity): video_history also sums watch seconds (refolded from the
 * daily partials), and video_session_day, video_session_link and video_window are new.
 */
const PARTIAL_SQL_BEFORE: Record<string, string> = {
  user_day: '032af17ec00a38ef',
  user_hour_day: '830b698d6a9cd2a9',
  user_session_day: '67b38c2cc4124e82',
  user_category_day: '9677378ca12bc8a4',
  user_video_day: 'db5877ac44ed1f5e',
  video_day: '40db552a32eecbb1',
  session_day: 'ae3071e12caa413b',
  user_history: 'c06b708685c301c9',
  video_history: '24503426d9369e84',
  video_session_day: '5473b6ee50bf0f4a',
  video_session_link: '0b90aa845b5b167e',
  user_window: '6b1fed9818a9853b',
  user_hour_window: '95f7f676dff65f73',
  user_category_window: '29d8a163769209c7',
  user_video_link: '2fdf523bec850c6e',
  video_user_link: '6e9a6252c66c82b9',
  video_window: '176d99de8e4fa02c',
  user_session_link: '1e1375060969a367',
};

// Updated deliberately when a family's features change (a new code version recomputes its gold on a
// backfill): issue 25 (seed parity) added features to user, session, temporal and item features, and
// statistical_features follows the families it describes and the statistics declarations.
const CODE_VERSIONS_BEFORE: Record<string, string> = {
  user_features: 'b9853ce27032faec',
  item_features: 'aa170eec5a5541d6',
  session_features: '4de3f5ddae6d7954',
  temporal_features: '6945b8d2e9cf3d95',
  statistical_features: '7bd3e53deada04ca',
  user_embeddings: 'e250e7eed62f6ef7',
  video_embeddings: 'af76d95883a34bc3',
};

describe('window states derived from the families', () => {
  it('are the window states declared by hand before, column for column and in order', () => {
    const derived = Object.fromEntries(Object.entries(WINDOW_PARTIALS).map(([n, w]) => [n, { from: w.from, keys: [...w.keys], sums: w.sums }]));
    expect(Object.keys(derived)).toEqual(Object.keys(WINDOW_STATES_BEFORE));
    for (const [n, w] of Object.entries(WINDOW_STATES_BEFORE)) {
      expect(derived[n]).toEqual(w);
      expect(Object.keys(derived[n]!.sums)).toEqual(Object.keys(w.sums));
    }
  });

  it('leave the SQL of every partial unchanged (no partial is recomputed)', () => {
    const names = [
      ...Object.keys(DAILY_PARTIALS),
      ...Object.keys(HISTORY_PARTIALS),
      ...Object.keys(WINDOW_PARTIALS),
      ...Object.keys(LINK_PARTIALS),
    ] as PartialName[];
    expect(Object.fromEntries(names.map((n) => [n, sha(partialSql(n))]))).toEqual(PARTIAL_SQL_BEFORE);
  });

  it("leave every family's code version unchanged (no gold is recomputed)", () => {
    expect(Object.fromEntries(FAMILIES.map((f) => [f.name, familyCodeVersion(f)]))).toEqual(CODE_VERSIONS_BEFORE);
  });
});

const toy = (name: string, windows: FamilyDecl['windows'], partials: FamilyDecl['partials'] = {}): FamilyDecl => toyFamily([], { name, windows, partials });

describe('deriving window states', () => {
  it('makes one state per daily partial summed, named and keyed after it, with each column once', () => {
    const states = deriveWindowPartials([
      toy('a', [
        { from: 'video_day', column: 'likes', op: 'sum', windows: [7, 30] },
        { from: 'user_category_day', column: 'events', op: 'sum', windows: [30] },
      ]),
      toy('b', [
        { from: 'video_day', column: 'likes', op: 'sum', windows: [30, 90] },
        { from: 'video_day', expr: 'likes + shares', name: 'reactions', type: 'BIGINT', op: 'sum', windows: [7] },
      ]),
    ]);
    expect(Object.keys(states)).toEqual(['user_category_window', 'video_window']);
    expect(states.video_window).toMatchObject({ kind: 'window', name: 'video_window', from: 'video_day', keys: ['video_id'] });
    expect(states.video_window!.sums).toEqual({
      likes_7d: { expr: 'likes', type: 'BIGINT', days: 7 },
      likes_30d: { expr: 'likes', type: 'BIGINT', days: 30 },
      likes_90d: { expr: 'likes', type: 'BIGINT', days: 90 },
      reactions_7d: { expr: 'likes + shares', type: 'BIGINT', days: 7 },
    });
    expect(states.user_category_window!.keys).toEqual(['user_id', 'category']);
  });

  it("types a column's sums as the daily partial declares the measure", () => {
    const states = deriveWindowPartials([toy('a', [{ from: 'user_video_day', column: 'watch_seconds', name: 'watched', op: 'sum', windows: [7] }])]);
    expect(states.user_video_window!.sums).toEqual({ watched_7d: { expr: 'watch_seconds', type: 'DECIMAL(38, 6)', days: 7 } });
  });

  it('refuses a column two families sum differently, naming both', () => {
    const a = toy('a', [{ from: 'user_day', column: 'events', op: 'sum', windows: [7] }]);
    const b = toy('b', [{ from: 'user_day', expr: 'events * 2', name: 'events', type: 'BIGINT', op: 'sum', windows: [7] }]);
    expect(() => deriveWindowPartials([a, b])).toThrow(/events_7d of user_window is declared differently by a .* and b/);
    const c = toy('c', [{ from: 'user_day', expr: 'events', name: 'events', type: 'DECIMAL(38, 6)', op: 'sum', windows: [7] }]);
    expect(() => deriveWindowPartials([a, c])).toThrow(/as BIGINT .* as DECIMAL\(38, 6\)/);
  });

  it('refuses what is not a measure, clashing names, bad windows and a misused `as`', () => {
    expect(() => deriveWindowPartials([toy('a', [{ from: 'user_day', column: 'first_ts' as 'events', op: 'sum', windows: [7] }])])).toThrow(
      /family a: 'first_ts' is not a measure of the daily partial user_day/,
    );
    expect(() =>
      deriveWindowPartials([toy('a', [{ from: 'user_day', expr: '1', name: 'x', type: 'BIGINT', op: 'sum', windows: [7], as: 'days_present' }])]),
    ).toThrow(/would clash/);
    expect(() => deriveWindowPartials([toy('a', [{ from: 'user_day', column: 'events', op: 'sum', windows: [0] }])])).toThrow(/whole numbers of days/);
    expect(() => deriveWindowPartials([toy('a', [{ from: 'user_day', column: 'events', op: 'sum', windows: [7, 30], as: 'e' }])])).toThrow(/single window/);
  });

  it("adds a family's window states to the partials it reads; a listed one must be declared and read for the date", () => {
    const f = toy('a', [{ from: 'user_day', column: 'events', op: 'sum', windows: [7] }], { user_history: 1 });
    expect(familyPartials(f)).toEqual({ user_history: 1, user_window: 1 });
    expect(familyPartials(toy('b', f.windows, { user_window: 1, user_history: 1 }))).toEqual({ user_window: 1, user_history: 1 });
    expect(() => familyPartials(toy('c', [], { user_window: 1 }))).toThrow(
      /family c reads the window state user_window but declares no window aggregation of user_day/,
    );
    expect(() => familyPartials(toy('d', f.windows, { user_window: 30 }))).toThrow(/read for the date only/);
  });

  it('families declare every window column they read: their SQL binds against states made of their own declarations only', async () => {
    // Were a family to read a column only another family declares, it would break the day that one drops it.
    const db = await Engine.create({ threads: 1, memoryLimit: '512MB' });
    const day = "DATE '2026-01-01'";
    const table = async (name: string, sql: string) => db.run(`CREATE OR REPLACE TEMP TABLE ${name} AS SELECT * FROM (${sql}) LIMIT 0`);
    try {
      await table('events', `SELECT ${SILVER_COLUMNS.map((c) => `NULL::${c.type} AS ${c.name}`).join(', ')}`);
      const withWindows = FAMILIES.filter((f) => f.windows);
      expect(withWindows.map((f) => f.name)).toEqual(['user_features', 'item_features', 'temporal_features']);
      for (const f of withWindows) {
        const own = deriveWindowPartials([f]);
        for (const name of Object.keys(familyPartials(f)) as PartialName[]) {
          const from =
            name in DAILY_PARTIALS
              ? name
              : name in HISTORY_PARTIALS
                ? HISTORY_PARTIALS[name as HistoryPartialName].from
                : name in LINK_PARTIALS
                  ? LINK_PARTIALS[name as LinkPartialName].from
                  : own[name as WindowPartialName]!.from;
          await table('today', `SELECT ${day} AS day, * FROM (${DAILY_PARTIALS[from as DailyPartialName].sql})`);
          await table('previous', 'SELECT * EXCLUDE (day) FROM today');
          await table('before', 'SELECT * FROM today');
          let sql: string;
          if (name in DAILY_PARTIALS) sql = 'SELECT * FROM today';
          else if (name in HISTORY_PARTIALS) sql = HISTORY_PARTIALS[name as HistoryPartialName].sql;
          else if (name in LINK_PARTIALS) {
            await table('pairs', LINK_PARTIALS[name as LinkPartialName].pairs);
            sql = LINK_PARTIALS[name as LinkPartialName].sql;
          } else sql = windowFoldSql(own[name as WindowPartialName]!, { previous: false, leaving: [] });
          await table(name, name in DAILY_PARTIALS ? sql : `SELECT ${day} AS day, * FROM (${sql})`);
        }
        await expect(
          db.all(`SELECT * FROM (${f.sql({ date: day, asOf: "TIMESTAMP '2026-01-02 00:00:00'", dependencies: [] })}) LIMIT 0`),
          f.name,
        ).resolves.toEqual([]);
        // And the check has teeth: without one of its columns, the family's SQL does not bind.
        const state = Object.keys(own)[0] as WindowPartialName;
        const [dropped] = Object.keys(own[state]!.sums);
        await db.run(`ALTER TABLE ${state} DROP COLUMN ${dropped}`);
        await expect(db.all(`SELECT * FROM (${f.sql({ date: day, asOf: "TIMESTAMP '2026-01-02 00:00:00'", dependencies: [] })}) LIMIT 0`)).rejects.toThrow(
          new RegExp(dropped!),
        );
      }
    } finally {
      db.close();
    }
  });

  it('daily partials declare their measures with the types their SQL gives', async () => {
    const db = await Engine.create({ threads: 1, memoryLimit: '512MB' });
    try {
      await db.run(`CREATE TABLE events AS SELECT ${SILVER_COLUMNS.map((c) => `NULL::${c.type} AS ${c.name}`).join(', ')} LIMIT 0`);
      for (const p of Object.values(DAILY_PARTIALS) as DailyPartial[]) {
        const columns = await db.all<{ column_name: string; column_type: string }>(`DESCRIBE ${p.sql}`);
        const types = Object.fromEntries(columns.map((c) => [c.column_name, c.column_type]));
        for (const k of p.keys) expect(types, `${p.name}.${k}`).toHaveProperty(k);
        for (const [m, t] of Object.entries(p.measures)) expect(types[m], `${p.name}.${m}`).toBe(t.replaceAll(' ', ''));
      }
    } finally {
      db.close();
    }
  });
});
