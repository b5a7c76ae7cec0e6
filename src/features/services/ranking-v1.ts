import type { FeatureServiceDecl } from './types.js';

/** What a ranking model scores a (user, video) pair with: the user's recent activity and the video's audience, counts z-scored. */
export const rankingV1: FeatureServiceDecl = {
  name: 'ranking_v1',
  version: 1,
  description: "Ranking a (user, video) pair: the user's activity and tastes, the video's audience and momentum; watch times and view counts z-scored.",
  owner: 'ml-platform',
  features: [
    'user_features:watch_time_7d:zscore',
    'user_features:watch_time_30d:zscore',
    'user_features:video_count_7d',
    'user_features:session_count_30d',
    'user_features:completion_rate_30d',
    'user_features:interaction_rate_30d',
    'user_features:top_category_30d',
    'user_features:days_since_last_event',
    'item_features:view_count_7d:zscore',
    'item_features:unique_viewers_30d',
    'item_features:avg_watch_time_30d',
    'item_features:like_count_30d',
    'item_features:return_rate_30d',
    'item_features:popularity_score',
    'item_features:trending_score',
  ],
};
