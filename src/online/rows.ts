// What both stores share: encoding rows for a write, and turning stored records into read results
// (status, TTL, feature selection), so that the stores differ only in how they move records.
import { decodeRecordValues, encodeRecord, recordFeatureTimestamp } from './record.js';
import type { EncodedRow, OnlineReadRequest, OnlineReadResult, OnlineWriteRow } from './store.js';
import { featurePositions, type OnlineViewSpec, ttlMs, validateView } from './view.js';

const validated = new WeakSet<OnlineViewSpec>();
/** validateView once per view object (it is on every read and write). */
export function checkedView(view: OnlineViewSpec): OnlineViewSpec {
  if (!validated.has(view)) {
    validateView(view);
    validated.add(view);
  }
  return view;
}

export function encodeRows(view: OnlineViewSpec, rows: readonly OnlineWriteRow[], now: number): EncodedRow[] {
  checkedView(view);
  return rows.map((r) => ({ entityKey: r.entityKey, record: encodeRecord(view, r.featureTimestamp, r.createdTimestamp ?? now, r.values) }));
}

/** Turns the stored records of each request (null: absent) into results, applying each view's TTL at `now`. */
export function resolveReads(requests: readonly OnlineReadRequest[], records: readonly (readonly (string | null)[])[], now: number): OnlineReadResult[][] {
  return requests.map((req, i) => {
    const view = checkedView(req.view);
    const positions = req.features ? featurePositions(view, req.features) : view.features.map((_, p) => p);
    const nulls = () => positions.map(() => null);
    const ttl = ttlMs(view);
    return req.entityKeys.map((entityKey, j) => {
      const record = records[i]![j];
      if (record === null || record === undefined) return { entityKey, status: 'not_found', featureTimestamp: null, values: nulls() };
      const featureTimestamp = recordFeatureTimestamp(record);
      if (now - featureTimestamp > ttl) return { entityKey, status: 'outside_ttl', featureTimestamp, values: nulls() };
      return { entityKey, status: 'present', featureTimestamp, values: decodeRecordValues(view, record, positions) };
    });
  });
}
