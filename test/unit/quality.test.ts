import { describe, expect, it } from 'vitest';
import type { FamilyDecl, FeatureDecl } from '../../src/features/types.js';
import { fixedSeverity, levelSeverity, resolveConfig, severityOverride } from '../../src/quality/config.js';
import { jsDistance, ksFromGrids, psi, psiEdges, relativeChange } from '../../src/quality/drift.js';
import { compareSchema } from '../../src/quality/schema.js';
import { distributionComponent, driftComponent, familyScore, featureScore, nullsComponent, outliersComponent } from '../../src/quality/score.js';

describe('drift formulas', () => {
  it('PSI is 0 for equal shares and matches a hand computation otherwise', () => {
    expect(psi([10, 20, 30], [1, 2, 3], 1e-4)).toBeCloseTo(0, 12);
    // 0.25 ln 2 + 0.25 ln 1.5
    expect(psi([50, 50], [25, 75], 1e-4)).toBeCloseTo(0.25 * Math.log(2) + 0.25 * Math.log(1.5), 10);
  });

  it('PSI stays finite on empty bins thanks to epsilon', () => {
    const v = psi([1, 0], [0, 1], 1e-4);
    expect(v).toBeCloseTo(2 * (1 - 1e-4) * Math.log(1e4), 6);
    expect(() => psi([1, 2], [1], 1e-4)).toThrow(/bins/);
  });

  it('Jensen-Shannon distance: 0 equal, 1 disjoint, hand value in between', () => {
    expect(jsDistance([3, 1], [6, 2])).toBeCloseTo(0, 12);
    expect(jsDistance([1, 0], [0, 1])).toBeCloseTo(1, 12);
    const kl1 = Math.log2(1 / 0.75);
    const kl2 = 0.5 * Math.log2(0.5 / 0.75) + 0.5 * Math.log2(0.5 / 0.25);
    expect(jsDistance([1, 0], [1, 1])).toBeCloseTo(Math.sqrt(0.5 * kl1 + 0.5 * kl2), 10);
  });

  it('relative change, with a zero reference', () => {
    expect(relativeChange(110, 100)).toBeCloseTo(0.1);
    expect(relativeChange(-5, -10)).toBeCloseTo(0.5);
    expect(relativeChange(0, 0)).toBe(0);
    expect(relativeChange(3, 0)).toBeUndefined();
  });

  it('KS from quantile grids matches the exact statistic (within 2 / K on large samples), ties included', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const cdf = (sorted: number[], v: number) => {
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sorted[mid]! <= v) lo = mid + 1;
        else hi = mid;
      }
      return lo / sorted.length;
    };
    const exact = (a: number[], b: number[]) => {
      const sa = [...a].sort((x, y) => x - y);
      const sb = [...b].sort((x, y) => x - y);
      return Math.max(...[...a, ...b].map((v) => Math.abs(cdf(sa, v) - cdf(sb, v))));
    };
    // As numericStats builds it: grid[k] = the value of rank floor(k / K * (n - 1)).
    const grid = (xs: number[], k = 1000) => {
      const s = [...xs].sort((x, y) => x - y);
      return Array.from({ length: k + 1 }, (_, i) => s[Math.floor((i / k) * (s.length - 1))]!);
    };
    const cases: [number[], number[]][] = [
      [Array.from({ length: 3000 }, rand), Array.from({ length: 5000 }, () => rand() * 1.2)],
      [Array.from({ length: 2000 }, () => Math.floor(rand() * 7)), Array.from({ length: 4000 }, () => Math.floor(rand() * 8))],
      [Array.from({ length: 500 }, () => -Math.log(rand())), Array.from({ length: 800 }, () => -Math.log(rand()) + 0.3)],
      [Array.from({ length: 50 }, rand), Array.from({ length: 70 }, rand)],
    ];
    for (const [a, b] of cases) expect(Math.abs(ksFromGrids(grid(a), a.length, grid(b), b.length) - exact(a, b))).toBeLessThan(0.002);
    // small samples: every rank is on the grid, the statistic is exact
    const [a, b] = cases[3]!;
    expect(ksFromGrids(grid(a), a.length, grid(b), b.length)).toBeCloseTo(exact(a, b), 12);
    expect(ksFromGrids([1, 2, 3], 3, [1, 2, 3], 3)).toBe(0);
    expect(ksFromGrids([1, 1, 1], 3, [2, 2, 2], 3)).toBe(1);
    expect(() => ksFromGrids([], 0, [1], 1)).toThrow(/empty/);
  });

  it('PSI edges: ties merge, order and finiteness enforced', () => {
    expect(psiEdges([0, 0, 0, 1, 2, 2, NaN, 5])).toEqual([0, 1, 2, 5]);
  });
});

describe('quality score', () => {
  it('components follow the documented formulas', () => {
    expect(nullsComponent(0.1, 0.2)).toBe(1);
    expect(nullsComponent(0.6, 0.2)).toBeCloseTo(0.5);
    expect(nullsComponent(0.05, 0)).toBeCloseTo(0.95);
    expect(nullsComponent(0.9, 1)).toBe(1);
    expect(outliersComponent(0.07)).toBeCloseTo(0.93);
    expect(distributionComponent(true, 0, 10)).toBe(0);
    expect(distributionComponent(false, 3, 10)).toBe(1);
    expect(distributionComponent(false, -40, 10)).toBeCloseTo(0.25);
    expect(driftComponent(0.05, 0.2)).toBeCloseTo(0.75);
    expect(driftComponent(0.5, 0.2)).toBe(0);
  });

  it('weights nulls 30%, outliers 30%, distribution 20%, drift 20%, renormalized over what is present', () => {
    expect(featureScore({ nulls: 1, outliers: 0, distribution: 1, drift: 1 })).toBeCloseTo(0.7);
    expect(featureScore({ nulls: 0, outliers: 1, distribution: 1, drift: 1 })).toBeCloseTo(0.7);
    expect(featureScore({ nulls: 1, outliers: 1, distribution: 0, drift: 1 })).toBeCloseTo(0.8);
    expect(featureScore({ nulls: 1, outliers: 1, distribution: 1, drift: 0 })).toBeCloseTo(0.8);
    // A categorical feature without reference: nulls (0.3) and distribution (0.2) only.
    expect(featureScore({ nulls: 1, distribution: 0 })).toBeCloseTo(0.6);
    expect(familyScore([1, 0.5], 0.1)).toBeCloseTo(0.675);
    expect(familyScore([], 0)).toBe(1);
  });
});

describe('severities', () => {
  const feature: FeatureDecl = { name: 'x', type: 'DOUBLE', description: '', severity: { range: 'warn', psi: 'warn' } };
  const other: FeatureDecl = { name: 'y', type: 'DOUBLE', description: '' };

  it('threshold checks take the level crossed, or the override once the lowest threshold is crossed', () => {
    const level = { warn: 0.1, error: 0.2 };
    expect(levelSeverity(0.05, level, undefined)).toBeUndefined();
    expect(levelSeverity(0.15, level, undefined)).toEqual({ severity: 'warn', threshold: 0.1 });
    expect(levelSeverity(0.25, level, undefined)).toEqual({ severity: 'error', threshold: 0.2 });
    expect(levelSeverity(0.25, level, 'warn')).toEqual({ severity: 'warn', threshold: 0.1 });
    expect(levelSeverity(0.15, level, 'error')).toEqual({ severity: 'error', threshold: 0.1 });
    expect(levelSeverity(0.9, level, 'off')).toBeUndefined();
    expect(levelSeverity(0.9, { warn: 0.5 }, undefined)).toEqual({ severity: 'warn', threshold: 0.5 });
    expect(levelSeverity(undefined, level, undefined)).toBeUndefined();
  });

  it('drift is capped at warn unless declared to block', () => {
    const level = { warn: 0.1, error: 0.2 };
    expect(levelSeverity(0.25, level, undefined, 'warn')).toEqual({ severity: 'warn', threshold: 0.1 });
    expect(levelSeverity(0.25, level, 'error', 'warn')).toEqual({ severity: 'error', threshold: 0.1 });
    expect(levelSeverity(0.25, { error: 0.2 }, undefined, 'warn')).toEqual({ severity: 'warn', threshold: 0.2 });
  });

  it('a family declaration sits between the feature declaration and the run config per check; drift-warn-only caps blocking drift', () => {
    const family = { severity: { psi: 'error', outliers: 'off' } as const };
    const cfg = resolveConfig({ severity: { psi: 'warn', ks: 'error' } }, family);
    expect(severityOverride(cfg, 'psi', { feature: other })).toBe('error');
    expect(severityOverride(cfg, 'psi', { feature })).toBe('warn');
    expect(severityOverride(cfg, 'ks', { feature: other })).toBe('error');
    expect(severityOverride(cfg, 'outliers', { feature: other })).toBe('off');
    expect(severityOverride(resolveConfig({}, { severity: { rule: 'warn' } }), 'rule', { rule: { name: 'r', description: '', sql: 'true' } })).toBe('warn');
    const warnOnly = resolveConfig({ driftWarnOnly: true, severity: { ks: 'error', range: 'error' } }, family);
    expect(severityOverride(warnOnly, 'psi', { feature: other })).toBe('warn');
    expect(severityOverride(warnOnly, 'ks', { feature: other })).toBe('warn');
    // Only drift: a hard check declared as error stays an error.
    expect(severityOverride(warnOnly, 'range', { feature: other })).toBe('error');
  });

  it('precedence: run config per feature > declaration > run config per check > default', () => {
    const cfg = resolveConfig({ severity: { range: 'off', null_share: 'warn' }, features: { x: { psi: 'error' } } });
    expect(fixedSeverity(cfg, 'range', { feature })).toBe('warn');
    expect(fixedSeverity(cfg, 'range', { feature: other })).toBeUndefined();
    expect(fixedSeverity(cfg, 'null_share', { feature: other })).toBe('warn');
    expect(fixedSeverity(cfg, 'not_null', { feature: other })).toBe('error');
    expect(severityOverride(cfg, 'psi', { feature })).toBe('error');
    expect(severityOverride(resolveConfig(), 'psi', { feature })).toBe('warn');
    expect(severityOverride(resolveConfig(), 'psi', { feature: other })).toBeUndefined();
    const rule = { name: 'r', description: '', sql: 'true', severity: 'warn' as const };
    expect(fixedSeverity(resolveConfig(), 'rule', { rule })).toBe('warn');
    expect(fixedSeverity(resolveConfig({ rules: { r: 'error' } }), 'rule', { rule })).toBe('error');
    expect(fixedSeverity(resolveConfig(), 'rule', { rule: { ...rule, severity: undefined } })).toBe('error');
  });

  it('rejects a bad configuration with a message naming it', () => {
    expect(() => resolveConfig({ psiBins: 1 })).toThrow(/psiBins=1/);
    expect(() => resolveConfig({ thresholds: { psi: { warn: 0.3, error: 0.2 } } })).toThrow(/threshold psi/);
    expect(() => resolveConfig({ psiEpsilon: 0 })).toThrow(/psiEpsilon/);
    expect(() => resolveConfig({ sampleRows: -1 })).toThrow(/sampleRows/);
  });
});

describe('schema comparison', () => {
  const f = {
    name: 'f',
    keys: [{ name: 'k', type: 'VARCHAR' }],
    features: [
      { name: 'a', type: 'DOUBLE', description: '' },
      { name: 'b', type: 'VARCHAR', description: '' },
      { name: 'c', type: 'BIGINT', description: '' },
    ],
  } as unknown as FamilyDecl;
  const ts = [
    { name: 'feature_timestamp', type: 'TIMESTAMP' },
    { name: 'created_timestamp', type: 'TIMESTAMP' },
  ];

  it('accepts the declared columns with the gold timestamps', () => {
    const r = compareSchema(f, [
      { name: 'k', type: 'VARCHAR' },
      { name: 'a', type: 'DOUBLE' },
      { name: 'b', type: 'VARCHAR' },
      { name: 'c', type: 'BIGINT' },
      ...ts,
    ]);
    expect(r).toEqual({ problems: [], usable: f.features, keysUsable: true });
  });

  it('names missing, mistyped and undeclared columns, and keeps the usable features', () => {
    const r = compareSchema(f, [
      { name: 'k', type: 'BIGINT' },
      { name: 'a', type: 'VARCHAR' },
      { name: 'b', type: 'VARCHAR' },
      { name: 'zz', type: 'DOUBLE' },
      ts[0]!,
    ]);
    expect(r.problems).toEqual([
      'key k is BIGINT, declared VARCHAR',
      'feature a is VARCHAR, declared DOUBLE',
      'feature c is missing',
      'column created_timestamp is missing',
      'undeclared column(s): zz DOUBLE',
    ]);
    expect(r.usable.map((x) => x.name)).toEqual(['b']);
    expect(r.keysUsable).toBe(false);
  });
});
