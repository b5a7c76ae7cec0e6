// User-item interactions: the COO input of the embeddings kernel, its validation, and the compressed
// sparse row (CSR) layouts the solvers and the evaluation walk.
import { float32Array, int32Array } from './buffers.js';

/**
 * One entry per (user, item) pair, in any order: `confidence[k]` is the raw interaction strength r_ui
 * (>= 0) of user `userIdx[k]` with item `itemIdx[k]`. Entries with r_ui = 0 are the same as no
 * interaction and are ignored.
 */
export interface Interactions {
  nUsers: number;
  nItems: number;
  userIdx: Int32Array;
  itemIdx: Int32Array;
  confidence: Float32Array;
}

/** (user, item) pairs observed after the training window, for evaluation. */
export interface HeldOut {
  userIdx: Int32Array;
  itemIdx: Int32Array;
}

/** Compressed sparse rows: row r holds columns `indices[indptr[r] .. indptr[r + 1])` with `values` alongside. */
export interface Csr {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export class InteractionsError extends Error {
  override name = 'InteractionsError';
}

function checkCount(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new InteractionsError(`${what} must be a positive integer (got ${n})`);
}

/** Throws an InteractionsError naming the first problem: sizes, empty data, an index out of range, a bad confidence. */
export function validateInteractions(data: Interactions): void {
  checkCount('nUsers', data.nUsers);
  checkCount('nItems', data.nItems);
  const n = data.userIdx.length;
  if (data.itemIdx.length !== n || data.confidence.length !== n) {
    throw new InteractionsError(`userIdx, itemIdx and confidence must have the same length (got ${n}, ${data.itemIdx.length}, ${data.confidence.length})`);
  }
  let positive = 0;
  for (let k = 0; k < n; k++) {
    const u = data.userIdx[k];
    const i = data.itemIdx[k];
    const c = data.confidence[k];
    if (u < 0 || u >= data.nUsers) throw new InteractionsError(`entry ${k}: userIdx ${u} is out of range [0, ${data.nUsers})`);
    if (i < 0 || i >= data.nItems) throw new InteractionsError(`entry ${k}: itemIdx ${i} is out of range [0, ${data.nItems})`);
    if (!(c >= 0) || c === Infinity) throw new InteractionsError(`entry ${k}: confidence ${c} is not a finite number >= 0`);
    if (c > 0) positive++;
  }
  if (positive === 0) throw new InteractionsError(`no interactions with confidence > 0 (${n} entries): nothing to learn from`);
}

/** Validates held-out pairs against the index space of the training interactions. */
export function validateHeldOut(heldOut: HeldOut, nUsers: number, nItems: number): void {
  const n = heldOut.userIdx.length;
  if (heldOut.itemIdx.length !== n) throw new InteractionsError(`held-out userIdx and itemIdx must have the same length (got ${n}, ${heldOut.itemIdx.length})`);
  for (let k = 0; k < n; k++) {
    const u = heldOut.userIdx[k];
    const i = heldOut.itemIdx[k];
    if (u < 0 || u >= nUsers) throw new InteractionsError(`held-out entry ${k}: userIdx ${u} is out of range [0, ${nUsers})`);
    if (i < 0 || i >= nItems) throw new InteractionsError(`held-out entry ${k}: itemIdx ${i} is out of range [0, ${nItems})`);
  }
}

/**
 * Rows of the COO entries with value > 0, by a stable counting sort (so columns keep input order within
 * a row); values are multiplied by `scale`.
 */
export function toCsr(nRows: number, rowIdx: Int32Array, colIdx: Int32Array, values: Float32Array, scale: number, shared: boolean): Csr {
  const indptr = int32Array(nRows + 1, shared);
  for (let k = 0; k < rowIdx.length; k++) if (values[k] > 0) indptr[rowIdx[k] + 1]++;
  for (let r = 0; r < nRows; r++) indptr[r + 1] += indptr[r];
  const nnz = indptr[nRows];
  const indices = int32Array(nnz, shared);
  const out = float32Array(nnz, shared);
  const next = Int32Array.from(indptr.subarray(0, nRows));
  for (let k = 0; k < rowIdx.length; k++) {
    if (!(values[k] > 0)) continue;
    const at = next[rowIdx[k]]++;
    indices[at] = colIdx[k];
    out[at] = values[k] * scale;
  }
  return { indptr, indices, values: out };
}

/** The column-major view of `csr` (as rows of the transpose); each new row lists the old rows in ascending order. */
export function transposeCsr(csr: Csr, nCols: number, shared: boolean): Csr {
  const nRows = csr.indptr.length - 1;
  const nnz = csr.indices.length;
  const indptr = int32Array(nCols + 1, shared);
  for (let j = 0; j < nnz; j++) indptr[csr.indices[j] + 1]++;
  for (let c = 0; c < nCols; c++) indptr[c + 1] += indptr[c];
  const indices = int32Array(nnz, shared);
  const values = float32Array(nnz, shared);
  const next = Int32Array.from(indptr.subarray(0, nCols));
  for (let r = 0; r < nRows; r++) {
    for (let j = csr.indptr[r]; j < csr.indptr[r + 1]; j++) {
      const at = next[csr.indices[j]]++;
      indices[at] = r;
      values[at] = csr.values[j];
    }
  }
  return { indptr, indices, values };
}

/** The first (row, column) pair stored twice, or null. */
export function findDuplicate(csr: Csr, nCols: number): { row: number; col: number } | null {
  const lastRow = new Int32Array(nCols).fill(-1);
  const nRows = csr.indptr.length - 1;
  for (let r = 0; r < nRows; r++) {
    for (let j = csr.indptr[r]; j < csr.indptr[r + 1]; j++) {
      const c = csr.indices[j];
      if (lastRow[c] === r) return { row: r, col: c };
      lastRow[c] = r;
    }
  }
  return null;
}
