// How far vectors moved between two runs (consecutive dates), over the ids both runs know: with warm
// starts the vectors of stable users and items should barely move, so downstream models see the
// same meaning from day to day.

export interface VectorDrift {
  /** Mean over compared rows of 1 - cos(prev, next); a zero vector counts as distance 1. NaN when no row is compared. */
  meanCosineDistance: number;
  /** Rows compared: those flagged in `known`. */
  rows: number;
}

/**
 * `prev` and `next` are rows × factors in the same (today's) index space, `known` flags the rows that
 * existed in the previous run - the same layout as a WarmStart.
 */
export function vectorDrift(prev: Float32Array, next: Float32Array, known: Uint8Array): VectorDrift {
  if (prev.length !== next.length) throw new Error(`prev has ${prev.length} values but next has ${next.length}`);
  const rows = known.length;
  const factors = rows === 0 ? 0 : prev.length / rows;
  if (rows === 0 ? prev.length !== 0 : !Number.isInteger(factors) || factors < 1) {
    throw new Error(`${prev.length} values do not split into ${rows} rows (one known flag per row)`);
  }
  let total = 0;
  let compared = 0;
  for (let r = 0; r < rows; r++) {
    if (known[r] === 0) continue;
    let dot = 0;
    let a2 = 0;
    let b2 = 0;
    for (let k = r * factors; k < (r + 1) * factors; k++) {
      dot += prev[k] * next[k];
      a2 += prev[k] * prev[k];
      b2 += next[k] * next[k];
    }
    total += a2 === 0 || b2 === 0 ? 1 : 1 - dot / Math.sqrt(a2 * b2);
    compared++;
  }
  return { meanCosineDistance: compared === 0 ? NaN : total / compared, rows: compared };
}
