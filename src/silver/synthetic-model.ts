// The shape of the synthetic streaming service: the few numbers that make generated silver look like a
// real one (popularity skew, stable tastes, daily and weekly rhythm, completion, interactions, users
// arriving and churning). The generator turns them into SQL; tests assert the shape they produce.

/** Video categories, each with the median length of its videos in seconds (lengths are log-normal). */
export const CATEGORIES = [
  { name: 'news', medianSeconds: 180 },
  { name: 'music', medianSeconds: 240 },
  { name: 'sports', medianSeconds: 600 },
  { name: 'kids', medianSeconds: 900 },
  { name: 'comedy', medianSeconds: 1_320 },
  { name: 'animation', medianSeconds: 1_320 },
  { name: 'reality', medianSeconds: 2_640 },
  { name: 'drama', medianSeconds: 3_000 },
  { name: 'documentary', medianSeconds: 3_000 },
  { name: 'scifi', medianSeconds: 3_000 },
  { name: 'horror', medianSeconds: 5_400 },
  { name: 'romance', medianSeconds: 6_000 },
] as const;

/** Spread of video lengths around their category's median (sigma of the log). */
export const DURATION_LOG_SIGMA = 0.35;
export const DURATION_BOUNDS_SECONDS = [30, 4 * 3600] as const;

/**
 * Popularity: a play picks the video at rank fraction x = u^ZIPF_POWER (u uniform), so the play share
 * of the top q of a catalogue is q^(1/ZIPF_POWER): a Zipf law with exponent 1 - 1/ZIPF_POWER (0.8).
 */
export const ZIPF_POWER = 5;

/** Share of plays picked from the user's favourite categories (the rest follow global popularity). */
export const TASTE_SHARE = 0.8;
/** How a user's taste plays split over 1, 2 or 3 favourite categories (cumulative thresholds). */
export const FAVOURITE_SPLIT = { first: 0.6, second: 0.85 } as const;

/** Relative number of sessions starting in each UTC hour: quiet nights, an evening peak. */
export const HOURLY_WEIGHTS_WEEKDAY = [8, 5, 3, 2, 2, 3, 6, 9, 9, 8, 8, 9, 11, 10, 9, 9, 10, 12, 15, 18, 20, 19, 15, 11] as const;
/** Weekends: more daytime viewing. */
export const HOURLY_WEIGHTS_WEEKEND = [9, 6, 4, 2, 2, 2, 4, 6, 8, 10, 12, 13, 14, 14, 13, 13, 13, 14, 16, 18, 19, 18, 15, 12] as const;
/** Daily volume factor by ISO day of week (Monday first); they average to 1. */
export const WEEKDAY_VOLUME = [0.93, 0.92, 0.94, 0.97, 1.05, 1.12, 1.07] as const;

/** Device mix of users' main devices (relative weights); a session is on the main device 75% of the time. */
export const DEVICE_WEIGHTS = { mobile: 45, tv: 25, web: 20, tablet: 10 } as const;
export const MAIN_DEVICE_SHARE = 0.75;

/** Country mix of users (relative weights). */
export const COUNTRY_WEIGHTS = {
  US: 28,
  IN: 10,
  BR: 8,
  GB: 8,
  DE: 7,
  FR: 6,
  MX: 5,
  JP: 5,
  CA: 4,
  ES: 4,
  IT: 4,
  AU: 3,
  NL: 2,
  SE: 2,
  PL: 2,
  KR: 2,
} as const;

/** Sessions: plays per session are 1 + geometric (continue with this probability), at most MAX. */
export const SESSION_CONTINUE_PROBABILITY = 0.6;
export const SESSION_MAX_PLAYS = 12;
/** No play starts later than this after its session's start, so a session spans at most two dates. */
export const SESSION_MAX_SPAN_SECONDS = 12 * 3600;

/** Within a play. */
export const HEARTBEAT_SECONDS = 300;
export const RESUME_PROBABILITY = 0.12;
export const SEEK_PROBABILITY = 0.15;
/** Probability of a pause grows with watch time: 1 - exp(-watched / PAUSE_SCALE_SECONDS). */
export const PAUSE_SCALE_SECONDS = 1_800;
/** Completion by video length (under 10 min, under 1 h, longer), times TASTE_MISS_COMPLETION off-taste. */
export const COMPLETION_BY_LENGTH = { short: 0.75, medium: 0.55, long: 0.35 } as const;
export const TASTE_MISS_COMPLETION = 0.5;
/** Interaction rates at the end of a play: base, plus extra when completed / when on-taste. */
export const LIKE_RATE = { base: 0.02, completed: 0.06, onTaste: 0.03 } as const;
export const SHARE_RATE = { base: 0.005, completed: 0.015 } as const;
export const ADD_TO_LIST_RATE = { onTaste: 0.05, offTaste: 0.02 } as const;

/**
 * Users' active windows repeat over a year: a user is active on day n when (n - phase) mod 365 is below
 * their lifetime. Half the users are loyal (whole year); the others stay 2 weeks to ~11 months, so on
 * any date some users arrive, some churn, and some come back.
 */
export const USER_CYCLE_DAYS = 365;
export const LOYAL_USER_SHARE = 0.5;
export const LIFETIME_DAYS = [14, 330] as const;
/** Spread of users' activity (sigma of the log of a user's session weight). */
export const ACTIVITY_LOG_SIGMA = 0.8;
