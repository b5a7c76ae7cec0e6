import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/features/families/index.js';
import { checkOnDemandFeature, type OnDemandFeatureDecl } from '../../src/features/on-demand/decl.js';
import { check, parse } from '../../src/features/on-demand/expression.js';
import { ON_DEMAND_FEATURES, onDemandFeature } from '../../src/features/on-demand/index.js';

const decl = (over: Partial<OnDemandFeatureDecl>): OnDemandFeatureDecl => ({
  name: 'f',
  description: 'd',
  type: 'DOUBLE',
  inputs: { v: 'user_embeddings:vector' },
  expr: 'DOT(v, v)',
  ...over,
});

describe('on-demand declarations', () => {
  it('are checked at load: every declared feature compiles both ways', () => {
    expect(ON_DEMAND_FEATURES.map((f) => f.decl.name)).toEqual(['user_video_cosine', 'in_top_category', 'request_hour_local']);
    for (const f of ON_DEMAND_FEATURES) expect(f.sql((n) => n)).toContain('CAST');
  });

  it('compute the examples', () => {
    const cos = onDemandFeature('user_video_cosine');
    expect(cos.evaluate({ user_vector: [1, 0], video_vector: [1, 1] })).toBeCloseTo(Math.SQRT1_2, 15);
    expect(cos.evaluate({ user_vector: null, video_vector: [1, 1] })).toBeNull();
    expect(cos.evaluate({ user_vector: [0, 0], video_vector: [1, 1] })).toBeNull();
    const top = onDemandFeature('in_top_category');
    expect(top.evaluate({ video_category: 'music', top_category: 'music' })).toBe(true);
    expect(top.evaluate({ video_category: 'music', top_category: null })).toBeNull();
    // 2024-07-01 23:30 UTC is 01:30 on the 2nd in Paris (summer time), 2024-01-01 23:30 UTC is 00:30.
    const hour = onDemandFeature('request_hour_local');
    expect(hour.evaluate({ request_time: Date.UTC(2024, 6, 1, 23, 30) * 1000 })).toBe(1);
    expect(hour.evaluate({ request_time: Date.UTC(2024, 0, 1, 23, 30) * 1000 })).toBe(0);
  });

  it.each([
    [{ expr: 'DOT(v, v' }, "on-demand feature 'f': expected ')', found the end"],
    [{ expr: 'DOT(v, w)' }, "on-demand feature 'f': unknown name 'w'"],
    [{ expr: 'v + 1' }, "on-demand feature 'f': '+' needs a number, got FLOAT[]"],
    [{ type: 'BOOLEAN' as const }, "on-demand feature 'f': the expression is DOUBLE, the feature is declared BOOLEAN"],
    [{ inputs: { v: 'user_embeddings:nope' } }, "on-demand feature 'f': input 'v': family user_embeddings declares no feature 'nope'"],
    [{ request: { t: 'TIMESTAMP' as const } }, "on-demand feature 'f': 't' is declared but the expression does not read it"],
    [{ request: { t: 'TIMESTAMP' as const }, expr: "HOUR(t, 'Mars/Olympus') + DOT(v, v)" }, "unknown time zone 'Mars/Olympus'"],
    [{ expr: 'EVAL(v)' }, 'unknown function EVAL'],
    [{ expr: "CASE WHEN TRUE THEN 1 ELSE 'a' END + DOT(v, v)" }, 'branches of different types'],
    [{ expr: "'a' < 'b' AND DOT(v, v) > 0", type: 'BOOLEAN' as const }, "'<' does not order VARCHAR values"],
  ])('a bad declaration is an error naming the feature: %j', (over, message) => {
    expect(() => checkOnDemandFeature(decl(over), FAMILIES)).toThrow(message);
  });

  it('parses with SQL precedence', () => {
    const names = new Map([
      ['a', 'DOUBLE' as const],
      ['b', 'BOOLEAN' as const],
    ]);
    const e = parse('NOT b OR a + 2 * a > 3 AND a IS NOT NULL');
    expect(check(e, names)).toBe('BOOLEAN');
    expect(e).toMatchObject({ kind: 'binary', op: 'OR', left: { kind: 'not' }, right: { kind: 'binary', op: 'AND' } });
    expect(() => parse('a < a < a')).toThrow('comparisons do not chain');
    expect(() => parse("'unterminated")).toThrow('unterminated string');
  });
});
