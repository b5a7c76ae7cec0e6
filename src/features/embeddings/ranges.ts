// Splitting work between threads.

/** Splits [0, n) into `parts` contiguous ranges of about equal total cost (some may be empty). */
export function balancedRanges(n: number, parts: number, cost: (unit: number) => number): [number, number][] {
  let total = 0;
  for (let unit = 0; unit < n; unit++) total += cost(unit);
  const ranges: [number, number][] = [];
  let start = 0;
  let acc = 0;
  let unit = 0;
  for (let part = 1; part <= parts; part++) {
    const target = (total * part) / parts;
    while (unit < n && (part === parts || acc + cost(unit) / 2 <= target)) acc += cost(unit++);
    ranges.push([start, unit]);
    start = unit;
  }
  return ranges;
}
