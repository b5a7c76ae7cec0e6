import type { FeatureServiceDecl } from './types.js';

/**
 * The user side of candidate retrieval: the user's ALS vector (nearest video vectors are the
 * candidates) and a few counts that decide how many to retrieve. Keyed by user_id alone: the video
 * vectors go to the nearest-neighbour index, not through a request per user.
 */
export const candidateRetrievalV1: FeatureServiceDecl = {
  name: 'candidate_retrieval_v1',
  version: 1,
  description: "Candidate retrieval for a user: the user's ALS vector and a few activity counts.",
  owner: 'ml-platform',
  features: [
    'user_embeddings:vector',
    'user_features:video_count_7d',
    'user_features:unique_videos_30d',
    'user_features:session_count_7d',
    'user_features:top_category_30d',
    'temporal_features:events_7d',
  ],
};
