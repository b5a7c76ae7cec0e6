// Every place in the lake, built here and nowhere else.
import { joinKey } from './lake.js';

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A name that becomes one folder or file name in the lake (a run id, a family): never a path of its own. */
export function safeSegment(what: string, value: string): string {
  if (!SAFE_SEGMENT.test(value))
    throw Object.assign(new Error(`invalid ${what} '${value}': letters, digits, '.', '_' and '-' only, starting with a letter or digit`), {
      nonRetryable: true,
    });
  return value;
}

export const paths = {
  silverEvents: 'silver/events',
  silverDate: (date: string) => `silver/events/event_date=${date}`,
  silverPartition: (date: string, eventType: string) => `silver/events/event_date=${date}/event_type=${eventType}`,
  quarantine: (date: string) => `quarantine/silver/event_date=${date}`,
  partials: (name: string, date: string) => `partials/${name}/feature_date=${date}`,
  model: (name: string, date: string) => `models/${name}/feature_date=${date}`,
  staging: (family: string, date: string, runId: string) => `staging/${family}/feature_date=${date}/run=${safeSegment('run id', runId)}`,
  goldFamily: (family: string) => `gold/${family}`,
  gold: (family: string, date: string) => `gold/${family}/feature_date=${date}`,
  dlq: 'dlq',
  dlqEntry: (id: string) => `dlq/${id}.json`,
  registry: (family: string) => `registry/${family}`,
  serviceRegistry: (service: string) => `registry-services/${service}`,
  runs: (date: string) => `runs/feature_date=${date}`,
  smoke: (id: string) => `_doctor/${id}`,
  /** OpenLineage events of one run (a UUID), one JSON line each, when GOLD_OPENLINEAGE_LAKE_LOG is on. */
  lineage: (date: string, runUuid: string) => `lineage/feature_date=${date}/${safeSegment('lineage run id', runUuid)}.jsonl`,
  join: joinKey,
} as const;

/** Parses `name=value` folder names (hive partitions). */
export function partitionValue(dir: string, name: string): string | undefined {
  return dir.startsWith(`${name}=`) ? dir.slice(name.length + 1) : undefined;
}
