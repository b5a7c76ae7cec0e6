// The one list of statistics declarations: columns of a family, chosen or derived, that
// statistical_features describes besides every numeric feature. Adding one is adding its declaration
// file and one line here (statistical_features checks the family and names).
import type { StatisticsDecl } from '../types.js';
import { userFeatureStatistics } from './user-features.js';

export const STATISTICS: readonly StatisticsDecl[] = [userFeatureStatistics];
