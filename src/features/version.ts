// The code version of a family: a hash of everything that decides its values (its declaration, its
// SQL, the partials it reads). A backfill skips a date whose gold was written with the same version.
import { createHash } from 'node:crypto';
import { FAMILIES } from './families/index.js';
import type { PartialName } from './partials/definitions.js';
import { familyPartials, partialSql } from './partials/windows.js';
import type { FamilyDecl } from './types.js';

export function familyCodeVersion(f: FamilyDecl): string {
  const h = createHash('sha256');
  const dependencies = f.dependsOn.map((n) => FAMILIES.find((x) => x.name === n)!);
  // Not `windows`: what a family's sums over windows decide is the SQL of the window states it reads,
  // hashed below (a window another family already declared changes nothing, so neither does the version).
  h.update(JSON.stringify({ ...f, sql: undefined, windows: undefined }));
  h.update(f.sql({ date: 'DATE :date', asOf: 'TIMESTAMP :as_of', dependencies }));
  for (const p of Object.keys(familyPartials(f)) as PartialName[]) {
    h.update(partialSql(p));
  }
  for (const d of dependencies) h.update(familyCodeVersion(d));
  return h.digest('hex').slice(0, 16);
}
