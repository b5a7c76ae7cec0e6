// Quality scores in [0, 1]. A feature's score is the weighted mean of the components it has (weights
// renormalized over those present); the family's is the mean of its features' scores times the share
// of rows that pass every error-level row check. The README (Feature quality) states the same formulas.
import type { ScoreComponents } from './report.js';

export const SCORE_WEIGHTS: Required<Record<keyof ScoreComponents, number>> = { nulls: 0.3, outliers: 0.3, distribution: 0.2, drift: 0.2 };

/** 1 up to the allowed null share, then falling linearly to 0 at all nulls. */
export function nullsComponent(nullShare: number, allowedNullShare: number): number {
  if (allowedNullShare >= 1 || nullShare <= allowedNullShare) return 1;
  return clamp01(1 - (nullShare - allowedNullShare) / (1 - allowedNullShare));
}

/** The share of non-null values inside the Tukey fences. */
export function outliersComponent(outlierShare: number): number {
  return clamp01(1 - outlierShare);
}

/** 0 for a constant column, limit / |skew| beyond the skew limit, otherwise 1. */
export function distributionComponent(constant: boolean, skewness: number | undefined, skewLimit: number): number {
  if (constant) return 0;
  const s = Math.abs(skewness ?? 0);
  return s > skewLimit ? clamp01(skewLimit / s) : 1;
}

/** 1 at no drift, falling linearly to 0 at the PSI error threshold. */
export function driftComponent(psiValue: number, psiError: number): number {
  return clamp01(1 - psiValue / psiError);
}

export function featureScore(c: ScoreComponents): number {
  let sum = 0;
  let weights = 0;
  for (const [k, w] of Object.entries(SCORE_WEIGHTS) as [keyof ScoreComponents, number][]) {
    const v = c[k];
    if (v === undefined) continue;
    sum += w * v;
    weights += w;
  }
  return weights > 0 ? clamp01(sum / weights) : 0;
}

export function familyScore(featureScores: readonly number[], badRowShare: number): number {
  if (featureScores.length === 0) return clamp01(1 - badRowShare);
  return clamp01((featureScores.reduce((a, b) => a + b, 0) / featureScores.length) * (1 - badRowShare));
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
