// The one list of on-demand features. Adding one is adding its declaration file and one line here;
// every declaration is parsed and type-checked against the family declarations when this module
// loads, so a bad expression fails at start with the feature's name.
import { FAMILIES } from '../families/index.js';
import { checkOnDemandFeatures, ON_DEMAND, type OnDemandFeature } from './decl.js';
import { inTopCategory } from './in-top-category.js';
import { requestHourLocal } from './request-hour-local.js';
import { userVideoCosine } from './user-video-cosine.js';

export const ON_DEMAND_FEATURES: readonly OnDemandFeature[] = checkOnDemandFeatures([userVideoCosine, inTopCategory, requestHourLocal], FAMILIES);

export function onDemandFeature(name: string): OnDemandFeature {
  const f = ON_DEMAND_FEATURES.find((x) => x.decl.name === name);
  if (!f) throw new Error(`unknown on-demand feature '${name}' (known: ${ON_DEMAND_FEATURES.map((x) => x.decl.name).join(', ')})`);
  return f;
}

export { ON_DEMAND };
