import { rankingV1 } from './ranking-v1.js';
import type { FeatureServiceDecl } from './types.js';

/**
 * ranking_v1's features and three computed per (user, candidate) pair at request time: the cosine of
 * their ALS vectors, whether the candidate is in the user's top category, and the local hour. A
 * request (or the training set's entity rows) gives the candidate's category as `video_category`;
 * request_time defaults to the server's clock (the row's event_timestamp in a training set).
 */
export const rankingV2: FeatureServiceDecl = {
  name: 'ranking_v2',
  version: 1,
  description:
    "Ranking a (user, video) pair: ranking_v1's features, plus the pair's ALS cosine, whether the video is in the user's top category (request field video_category) and the local hour, computed on demand.",
  owner: 'ml-platform',
  features: [...rankingV1.features, 'on_demand:user_video_cosine', 'on_demand:in_top_category', 'on_demand:request_hour_local'],
};
