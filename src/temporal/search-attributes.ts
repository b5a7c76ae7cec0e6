// The product's search attributes, so that the Web UI can filter runs by feature date and run kind.
// Imported by workflow code too: keep this module free of side effects.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const FEATURE_DATE = defineSearchAttributeKey('GoldFeatureDate', SearchAttributeType.KEYWORD);
export const RUN_KIND = defineSearchAttributeKey('GoldRunKind', SearchAttributeType.KEYWORD);

export type RunKind = 'daily' | 'backfill' | 'replay' | 'smoke';

/** As `name=Type` pairs for `temporal server start-dev --search-attribute`. */
export const SEARCH_ATTRIBUTE_FLAGS = ['GoldFeatureDate=Keyword', 'GoldRunKind=Keyword'];
