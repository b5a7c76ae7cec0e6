// OpenLineage run events (spec 2-0-2, https://openlineage.io/spec/2-0-2/OpenLineage.json): the jobs of
// the daily run and of its steps, their runs, and the lake datasets they read and write. Plain data
// built from what the steps know (lake keys, the registry's schema, the validation report); the
// emitter (emitter.ts) sends them. Tests validate every event against the vendored schema.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { FeatureSchema } from '../registry/schema.js';
import { redactText } from '../shared/redact.js';

export const OPENLINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
/** Who produced the events (a URI, as the spec asks). */
export const GOLD_PRODUCER = 'urn:gold:pipeline:0.1.0';

const FACET_SCHEMA = {
  parent: 'https://openlineage.io/spec/1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet',
  nominalTime: 'https://openlineage.io/spec/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet',
  schema: 'https://openlineage.io/spec/facets/1-0-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  errorMessage: 'https://openlineage.io/spec/facets/1-0-0/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  dataQualityMetrics: 'https://openlineage.io/spec/facets/1-0-2/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet',
  /** gold's own facet (the quality score of the validation report): documented in docs/lineage.md. */
  goldQuality: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/InputDatasetFacet',
} as const;

export type EventType = 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';

export interface Facet {
  _producer: string;
  _schemaURL: string;
  [k: string]: unknown;
}

export interface Dataset {
  namespace: string;
  name: string;
  facets?: Record<string, Facet>;
  inputFacets?: Record<string, Facet>;
}

export interface RunEvent {
  eventType: EventType;
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets?: Record<string, Facet> };
  job: { namespace: string; name: string };
  inputs: Dataset[];
  outputs: Dataset[];
}

/** A job's run: the job, its run id, and the run it belongs to (absent for the daily run itself). */
export interface LineageRun {
  namespace: string;
  job: string;
  runId: string;
  /** The feature date: the run's nominal time is that day, [D 00:00, D+1 00:00) UTC. */
  date: string;
  parent?: { job: string; runId: string };
}

const facet = (schemaURL: string, body: Record<string, unknown>): Facet => ({ _producer: GOLD_PRODUCER, _schemaURL: schemaURL, ...body });

/** Namespace of gold's run ids (a fixed random UUID): run ids are UUIDv5 names under it. */
const RUN_NAMESPACE = Buffer.from('5f0b6a3c8e1d4c2a9b7f1e0d2c3b4a59', 'hex');

/**
 * A UUID (version 5: SHA-1 of the parts under gold's namespace) for a run, the same for the same
 * parts, so that a retried activity (same workflow run, job and date) reports the same run.
 */
export function lineageRunId(...parts: string[]): string {
  const h = createHash('sha1').update(RUN_NAMESPACE).update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The dataset of a lake key by the OpenLineage naming rules: on S3, namespace `s3://bucket` and the
 * object key as the name; on a local disk, namespace `file` and the absolute path.
 */
export function lakeDataset(lakeUri: string, key: string): Dataset {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(lakeUri);
  if (s3) {
    const prefix = s3[2]!.replace(/\/+$/, '');
    return { namespace: `s3://${s3[1]}`, name: prefix ? `${prefix}/${key}` : key };
  }
  const root = resolve(lakeUri.replace(/^file:\/\//i, ''));
  return { namespace: 'file', name: `${root}/${key}` };
}

/** The registry's columns of a family as a schema facet (keys, features, then the timestamps). */
export function withSchema(d: Dataset, columns: { name: string; type: string; description?: string }[]): Dataset {
  return { ...d, facets: { ...d.facets, schema: facet(FACET_SCHEMA.schema, { fields: columns }) } };
}

export function schemaColumns(s: {
  keys: { name: string; type: string }[];
  features: FeatureSchema[];
}): { name: string; type: string; description?: string }[] {
  return [
    ...s.keys.map((k) => ({ name: k.name, type: k.type })),
    ...s.features.map((f) => ({ name: f.name, type: f.type, ...(f.description ? { description: f.description } : {}) })),
    { name: 'feature_timestamp', type: 'TIMESTAMP' },
    { name: 'created_timestamp', type: 'TIMESTAMP' },
  ];
}

/** What the validation report says of a staged partition: rows, nulls per feature, and the quality score. */
export interface QualitySummary {
  rows: number;
  score: number;
  passed: boolean;
  nulls: Record<string, number>;
}

export function withQuality(d: Dataset, q: QualitySummary): Dataset {
  return {
    ...d,
    inputFacets: {
      ...d.inputFacets,
      dataQualityMetrics: facet(FACET_SCHEMA.dataQualityMetrics, {
        rowCount: q.rows,
        columnMetrics: Object.fromEntries(Object.entries(q.nulls).map(([c, n]) => [c, { nullCount: n }])),
      }),
      goldQuality: facet(FACET_SCHEMA.goldQuality, { score: q.score, passed: q.passed }),
    },
  };
}

/** A run event of `run`, at `time`; a FAIL's error message (URLs in it redacted) goes in its errorMessage facet. */
export function runEvent(
  eventType: EventType,
  run: LineageRun,
  io: { inputs?: Dataset[]; outputs?: Dataset[]; error?: string } = {},
  time = new Date(),
): RunEvent {
  const next = new Date(`${run.date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  const facets: Record<string, Facet> = {
    nominalTime: facet(FACET_SCHEMA.nominalTime, { nominalStartTime: `${run.date}T00:00:00.000Z`, nominalEndTime: next.toISOString() }),
  };
  if (run.parent) {
    facets.parent = facet(FACET_SCHEMA.parent, {
      run: { runId: run.parent.runId },
      job: { namespace: run.namespace, name: run.parent.job },
    });
  }
  if (io.error !== undefined) facets.errorMessage = facet(FACET_SCHEMA.errorMessage, { message: redactText(io.error), programmingLanguage: 'TypeScript' });
  return {
    eventType,
    eventTime: time.toISOString(),
    producer: GOLD_PRODUCER,
    schemaURL: OPENLINEAGE_SCHEMA_URL,
    run: { runId: run.runId, facets },
    job: { namespace: run.namespace, name: run.job },
    inputs: io.inputs ?? [],
    outputs: io.outputs ?? [],
  };
}
