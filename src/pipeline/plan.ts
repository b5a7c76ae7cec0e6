// The DAG plan: a pure function from family declarations to ordered stages. Pure, so the Temporal
// workflow and the in-process runner share it, and so it can be unit-tested.

export interface PlanInput {
  name: string;
  dependsOn: readonly string[];
}

export class PlanError extends Error {
  override name = 'PlanError';
  // An unknown family or a dependency cycle: retrying cannot help.
  readonly nonRetryable = true;
  readonly type = 'PlanError';
}

/**
 * Families grouped in stages: every family's dependencies are in earlier stages, and the families of
 * one stage can run in parallel. `only` restricts the plan to those families plus what they need.
 */
export function planStages(families: readonly PlanInput[], only?: readonly string[]): string[][] {
  const byName = new Map(families.map((f) => [f.name, f]));
  for (const f of families) {
    for (const d of f.dependsOn) if (!byName.has(d)) throw new PlanError(`family '${f.name}' depends on unknown family '${d}'`);
  }
  const wanted = new Set<string>();
  const want = (n: string): void => {
    if (wanted.has(n)) return;
    const f = byName.get(n);
    if (!f) throw new PlanError(`unknown family '${n}' (known: ${[...byName.keys()].join(', ')})`);
    wanted.add(n);
    f.dependsOn.forEach(want);
  };
  (only ?? families.map((f) => f.name)).forEach(want);

  const stages: string[][] = [];
  const done = new Set<string>();
  while (done.size < wanted.size) {
    const ready = families.filter((f) => wanted.has(f.name) && !done.has(f.name) && f.dependsOn.every((d) => done.has(d))).map((f) => f.name);
    if (ready.length === 0) {
      const stuck = [...wanted].filter((n) => !done.has(n));
      throw new PlanError(`dependency cycle among families: ${stuck.join(', ')}`);
    }
    stages.push(ready);
    ready.forEach((n) => done.add(n));
  }
  return stages;
}

/** The families a failed family takes down with it (everything that depends on it, transitively). */
export function dependents(families: readonly PlanInput[], failed: string): string[] {
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const f of families) {
      if (!out.has(f.name) && f.dependsOn.some((d) => d === failed || out.has(d))) {
        out.add(f.name);
        grew = true;
      }
    }
  }
  return [...out];
}
