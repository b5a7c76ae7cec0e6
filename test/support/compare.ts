// Compares two row sets by key, feature by feature: equal, or numbers within a relative tolerance.
export interface Mismatch {
  key: string;
  feature: string;
  actual: unknown;
  expected: unknown;
}

function same(a: unknown, b: unknown, rel: number): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) || Math.abs(a - b) < 1e-12;
  }
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a as number) === BigInt(b as number);
  return a === b;
}

export function compareRows(
  actual: Record<string, unknown>[],
  expected: Record<string, unknown>[],
  keys: string[],
  features: string[],
  rel = 1e-9,
): { mismatches: Mismatch[]; missing: string[]; extra: string[] } {
  const keyOf = (r: Record<string, unknown>) => keys.map((k) => String(r[k])).join('|');
  const exp = new Map(expected.map((r) => [keyOf(r), r]));
  const act = new Map(actual.map((r) => [keyOf(r), r]));
  const mismatches: Mismatch[] = [];
  for (const [k, a] of act) {
    const e = exp.get(k);
    if (!e) continue;
    for (const f of features) if (!same(a[f], e[f], rel)) mismatches.push({ key: k, feature: f, actual: a[f], expected: e[f] });
  }
  return {
    mismatches,
    missing: [...exp.keys()].filter((k) => !act.has(k)),
    extra: [...act.keys()].filter((k) => !exp.has(k)),
  };
}
