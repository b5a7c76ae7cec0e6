// The one list of feature services. Adding a service is adding its declaration file and one line here;
// every service is checked against the family declarations when this module loads.
import { FAMILIES } from '../families/index.js';
import { ON_DEMAND_FEATURES } from '../on-demand/index.js';
import { candidateRetrievalV1 } from './candidate-retrieval-v1.js';
import { rankingV1 } from './ranking-v1.js';
import { rankingV2 } from './ranking-v2.js';
import { checkServices, type FeatureServiceDecl } from './types.js';

export const FEATURE_SERVICES: readonly FeatureServiceDecl[] = checkServices([rankingV1, candidateRetrievalV1, rankingV2], FAMILIES, ON_DEMAND_FEATURES);

export function featureService(name: string): FeatureServiceDecl {
  const s = FEATURE_SERVICES.find((x) => x.name === name);
  if (!s) throw new Error(`unknown feature service '${name}' (known: ${FEATURE_SERVICES.map((x) => x.name).join(', ')})`);
  return s;
}
