// Freshness: how far the latest committed gold of a family lags the feature date it should have, and
// how old an online value is against its family's TTL.

import type { Lake } from '../lake/index.js';
import { latestGoldDate } from '../quality/reference.js';
import { addDays, assertDate } from '../shared/dates.js';

export interface FamilyFreshness {
  family: string;
  expectedDate: string;
  /** Latest committed gold date up to the expected one; absent when there is none. */
  latestDate?: string;
  /** Days from the latest date to the expected one; absent when there is no gold at all. */
  lagDays?: number;
  fresh: boolean;
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${assertDate(to)}T00:00:00Z`) - Date.parse(`${assertDate(from)}T00:00:00Z`)) / 86_400_000);
}

export async function familyFreshness(lake: Lake, family: string, expectedDate: string): Promise<FamilyFreshness> {
  const latestDate = await latestGoldDate(lake, family, addDays(expectedDate, 1));
  if (!latestDate) return { family, expectedDate, fresh: false };
  const lagDays = daysBetween(latestDate, expectedDate);
  return { family, expectedDate, latestDate, lagDays, fresh: lagDays === 0 };
}

export interface OnlineAge {
  ageSeconds: number;
  ttlSeconds: number;
  /** Still servable: the age is within the TTL (point-in-time rule of the feature contract). */
  withinTtl: boolean;
}

/** Age of an online value from its feature timestamp. */
export function onlineValueAge(featureTimestamp: Date | string | number, ttlSeconds: number, now: Date = new Date()): OnlineAge {
  const t =
    featureTimestamp instanceof Date ? featureTimestamp.getTime() : typeof featureTimestamp === 'number' ? featureTimestamp : Date.parse(featureTimestamp);
  if (!Number.isFinite(t)) throw new Error(`invalid feature timestamp ${String(featureTimestamp)}`);
  const ageSeconds = (now.getTime() - t) / 1000;
  return { ageSeconds, ttlSeconds, withinTtl: ageSeconds <= ttlSeconds };
}
