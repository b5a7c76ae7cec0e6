import type { StatisticsDecl } from '../types.js';

export const userFeatureStatistics: StatisticsDecl = {
  family: 'user_features',
  description: 'Derived columns of user_features that models take on another scale than the features themselves.',
  columns: [
    {
      name: 'log_watch_time_30d',
      sql: 'ln(1 + watch_time_30d)',
      description: 'ln(1 + watch_time_30d): watch time in 30d on a log scale (heavy-tailed in seconds), for its z-score',
    },
  ],
};
