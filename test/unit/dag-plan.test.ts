import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/features/families/index.js';
import { dependents, PlanError, planStages } from '../../src/pipeline/plan.js';

describe('DAG plan', () => {
  it('orders the declared families: independent ones together, statistical after its dependencies', () => {
    const stages = planStages(FAMILIES);
    expect(stages[0]).toEqual(expect.arrayContaining(['user_features', 'item_features', 'session_features', 'temporal_features']));
    const statStage = stages.findIndex((s) => s.includes('statistical_features'));
    expect(statStage).toBeGreaterThan(0);
    for (const f of FAMILIES)
      for (const d of f.dependsOn) expect(stages.findIndex((s) => s.includes(d))).toBeLessThan(stages.findIndex((s) => s.includes(f.name)));
  });

  it('restricts to the requested families plus their dependencies', () => {
    expect(planStages(FAMILIES, ['item_features'])).toEqual([['item_features']]);
    const withDeps = planStages(FAMILIES, ['statistical_features']).flat();
    expect(withDeps.sort()).toEqual(['item_features', 'session_features', 'statistical_features', 'temporal_features', 'user_features']);
  });

  it('rejects unknown families, unknown dependencies and cycles', () => {
    expect(() => planStages(FAMILIES, ['nope'])).toThrow(PlanError);
    expect(() => planStages([{ name: 'a', dependsOn: ['zz'] }])).toThrow(/unknown family 'zz'/);
    expect(() =>
      planStages([
        { name: 'a', dependsOn: ['b'] },
        { name: 'b', dependsOn: ['a'] },
      ]),
    ).toThrow(/cycle/);
  });

  it('finds what a failed family takes down', () => {
    expect(dependents(FAMILIES, 'user_features')).toEqual(['statistical_features']);
    expect(dependents(FAMILIES, 'statistical_features')).toEqual([]);
    expect(
      dependents(
        [
          { name: 'a', dependsOn: [] },
          { name: 'b', dependsOn: ['a'] },
          { name: 'c', dependsOn: ['b'] },
        ],
        'a',
      ),
    ).toEqual(['b', 'c']);
  });
});
