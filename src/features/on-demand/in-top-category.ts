import type { OnDemandFeatureDecl } from './decl.js';

/**
 * Whether the candidate video is in the user's most watched category of the last 30 days. No family
 * stores a video's category, so the caller sends it with the request (`video_category`).
 */
export const inTopCategory: OnDemandFeatureDecl = {
  name: 'in_top_category',
  description: "whether the candidate's category (request field video_category) is the user's top_category_30d; null when either is unknown",
  type: 'BOOLEAN',
  request: { video_category: 'VARCHAR' },
  inputs: { top_category: 'user_features:top_category_30d' },
  expr: 'video_category = top_category',
};
