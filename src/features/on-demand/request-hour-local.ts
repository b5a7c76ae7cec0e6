import type { OnDemandFeatureDecl } from './decl.js';

/** The hour of the request in the user's time zone (Europe/Paris for every user of the synthetic data). */
export const requestHourLocal: OnDemandFeatureDecl = {
  name: 'request_hour_local',
  description: 'hour of day (0-23) of the request time in Europe/Paris',
  type: 'BIGINT',
  request: { request_time: 'TIMESTAMP' },
  expr: "HOUR(request_time, 'Europe/Paris')",
};
