import type { OnDemandFeatureDecl } from './decl.js';

/** How close a candidate video is to the user's tastes: the cosine of their ALS vectors. */
export const userVideoCosine: OnDemandFeatureDecl = {
  name: 'user_video_cosine',
  description: "cosine similarity of the user's and the video's ALS vectors; null when either has no vector or a vector is zero",
  type: 'DOUBLE',
  inputs: { user_vector: 'user_embeddings:vector', video_vector: 'video_embeddings:vector' },
  expr: 'COSINE(user_vector, video_vector)',
};
