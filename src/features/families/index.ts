// The one list of feature families. Adding a family is adding its declaration file and one line here.
import type { FamilyDecl } from '../types.js';
import { userEmbeddings, videoEmbeddings } from './embeddings.js';
import { itemFeatures } from './item-features.js';
import { sessionFeatures } from './session-features.js';
import { statisticalFeatures } from './statistical-features.js';
import { temporalFeatures } from './temporal-features.js';
import { userFeatures } from './user-features.js';

export const FAMILIES: readonly FamilyDecl[] = [
  userFeatures,
  itemFeatures,
  sessionFeatures,
  temporalFeatures,
  statisticalFeatures,
  userEmbeddings,
  videoEmbeddings,
];

export function family(name: string): FamilyDecl {
  const f = FAMILIES.find((x) => x.name === name);
  if (!f) throw new Error(`unknown feature family '${name}' (known: ${FAMILIES.map((x) => x.name).join(', ')})`);
  return f;
}
