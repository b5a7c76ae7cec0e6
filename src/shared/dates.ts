// Feature time (../shared/spec/features.md): a feature date D is a UTC calendar date and
// as_of(D) = D + 1 day, 00:00:00 UTC.

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function assertDate(d: string): string {
  const t = Date.parse(`${d}T00:00:00Z`);
  if (!DATE_RE.test(d) || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== d) throw new Error(`invalid date '${d}': expected YYYY-MM-DD`);
  return d;
}

export function addDays(d: string, n: number): string {
  const t = new Date(`${assertDate(d)}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
}

/** Inclusive range of dates, ascending. */
export function dateRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = assertDate(from); d <= assertDate(to); d = addDays(d, 1)) out.push(d);
  return out;
}

export function asOf(d: string): Date {
  return new Date(`${addDays(d, 1)}T00:00:00Z`);
}

export function sqlDate(d: string): string {
  return `DATE '${assertDate(d)}'`;
}

export function sqlAsOf(d: string): string {
  return `TIMESTAMP '${addDays(d, 1)} 00:00:00'`;
}
