// The code version of a family: a hash of everything that decides its values (its declaration, its
// SQL, the partials it reads). A backfill skips a date whose gold was written with the same version.
import { createHash } from 'node:crypto';
import { FAMILIES } from './families/index.js';
import { type PartialName, partialSql } from './partials/definitions.js';
import type { FamilyDecl } from './types.js';

export function familyCodeVersion(f: FamilyDecl): string {
  const h = createHash('sha256');
  const dependencies = f.dependsOn.map((n) => FAMILIES.find((x) => x.name === n)!);
  h.update(JSON.stringify({ ...f, sql: undefined }));
  h.update(f.sql({ date: 'DATE :date', asOf: 'TIMESTAMP :as_of', dependencies }));
  for (const p of Object.keys(f.partials) as PartialName[]) {
    h.update(partialSql(p));
  }
  for (const d of dependencies) h.update(familyCodeVersion(d));
  return h.digest('hex').slice(0, 16);
}
