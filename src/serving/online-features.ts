// An online feature request (Feast's get-online-features shape) checked against the catalog of
// views, read from the store in one call, and answered in Feast's response shape. Shared by the HTTP
// server and `gold features online`.
//
// Request:  { features: ['view:feature', ...] } or { feature_service: 'name' },
//           entities: { <key column>: [v0, v1, ...], ... }   (columnar: row i is every column's i-th value)
//                                                             (values: strings, or whole numbers within ±(2^53 - 1))
//           full_feature_names?: boolean                       (names as 'view__feature')
//           normalize?: 'zscore' | 'minmax' | 'robust'          (every numeric feature; or per ref 'view:feature:zscore')
// Response: { metadata: { feature_names: [key columns..., features...] },
//             results: [ { values: [...], statuses: [...], event_timestamps: [...] }, ... ] }
//           one result per name, each with one entry per entity row; statuses PRESENT, NULL_VALUE
//           (present, value null), NOT_FOUND, OUTSIDE_MAX_AGE (older than the view's TTL: value null),
//           NO_NORMALIZATION_PARAMETERS (normalized feature, value present, no parameters for its date: null).
// On-demand features ('on_demand:<name>', src/features/on-demand/) are computed here from the stored
// features they read (fetched in the same store call; a row not found or outside its TTL reads as
// null) and from `request_data` (columnar like entities: { <request field>: [v0, v1, ...] };
// TIMESTAMP fields as ISO strings; `request_time` defaults to the server's clock). Their columns come
// after the stored features', with statuses PRESENT or NULL_VALUE and no event_timestamps.
// Normalized values use the statistical_features parameters of the value's own feature date (the
// date its event_timestamp is the as_of of), the same formulas as training sets (offline/normalize.ts).

import type { Row as OnDemandRow } from '../features/on-demand/compile-js.js';
import { ON_DEMAND, type OnDemandFeature } from '../features/on-demand/decl.js';
import type { ExprType, Value } from '../features/on-demand/types.js';
import {
  hasParameters,
  isNormalizable,
  isNormalizeMethod,
  NORMALIZABLE_TYPES,
  type NormalizationParameters,
  type NormalizeMethod,
  normalizeValue,
  PARAMETERS_FAMILY,
  unknownMethodMessage,
} from '../offline/normalize.js';
import { encodeEntityKey, MAX_ENTITY_KEY_BYTES } from '../online/entity-key.js';
import { checkedView } from '../online/rows.js';
import type { OnlineReadRequest, OnlineReadResult, OnlineStore } from '../online/store.js';
import { type OnlineViewSpec, valueKind } from '../online/view.js';
import { isoTime } from './iso-time.js';

export interface ServingCatalog {
  views: OnlineViewSpec[];
  /** Named lists of feature refs ('view:feature'). */
  featureServices?: Record<string, string[]>;
  /** On-demand features, requested as 'on_demand:<name>'. */
  onDemand?: readonly OnDemandFeature[];
}

export type FeatureStatus = 'PRESENT' | 'NULL_VALUE' | 'NOT_FOUND' | 'OUTSIDE_MAX_AGE' | 'NO_NORMALIZATION_PARAMETERS';

/**
 * Where the server finds normalization parameters: those of a feature date, by 'family:feature', or
 * null when statistical_features has no gold partition for the date.
 */
export interface NormalizationSource {
  parameters(date: string): Promise<ReadonlyMap<string, NormalizationParameters> | null>;
}

export interface FeatureColumn {
  values: unknown[];
  statuses: FeatureStatus[];
  /** ISO time of the row each value comes from; null for entity columns and rows not found. */
  event_timestamps: (string | null)[];
}

export interface OnlineFeaturesResponse {
  metadata: { feature_names: string[] };
  results: FeatureColumn[];
}

/** A request the caller got wrong: the HTTP status to answer with, and a message saying what to fix. */
export class FeatureRequestError extends Error {
  override name = 'FeatureRequestError';
  constructor(
    readonly statusCode: 400 | 404 | 413,
    message: string,
  ) {
    super(message);
  }
}

/** The store failed to answer (unreachable, timed out, unreadable data): not the caller's fault. */
export class OnlineStoreReadError extends Error {
  override name = 'OnlineStoreReadError';
}

/** The normalization parameters could not be read (the lake failed): not the caller's fault. */
export class ParametersReadError extends Error {
  override name = 'ParametersReadError';
}

const REF = /^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z0-9_]+))?$/;

/** The views by name and the feature services, checked once (a bad catalog fails at start). */
export class Catalog {
  readonly views = new Map<string, OnlineViewSpec>();
  readonly featureServices: Map<string, string[]>;
  readonly onDemand = new Map<string, OnDemandFeature>();

  constructor(c: ServingCatalog) {
    for (const f of c.onDemand ?? []) this.onDemand.set(f.decl.name, f);
    for (const v of c.views) {
      checkedView(v);
      if (this.views.has(v.name)) throw new Error(`feature view '${v.name}' is listed twice`);
      this.views.set(v.name, v);
    }
    this.featureServices = new Map(Object.entries(c.featureServices ?? {}));
    for (const [name, refs] of this.featureServices) {
      try {
        this.splitRefs(refs);
      } catch (e) {
        throw new Error(`feature service '${name}': ${(e as Error).message}`);
      }
    }
  }

  /**
   * The stored refs resolved (resolveRefs) and the on-demand features, with the stored features they
   * read: each input's view must be served.
   */
  splitRefs(refs: readonly unknown[]): {
    stored: { view: OnlineViewSpec; feature: string; normalize?: NormalizeMethod }[];
    onDemand: { feature: OnDemandFeature; inputs: { view: OnlineViewSpec; feature: string }[] }[];
  } {
    const prefix = `${ON_DEMAND}:`;
    const storedRefs = refs.filter((r) => !(typeof r === 'string' && r.startsWith(prefix)));
    const seen = new Set<string>();
    const onDemand = refs
      .filter((r): r is string => typeof r === 'string' && r.startsWith(prefix))
      .map((ref) => {
        const name = ref.slice(prefix.length);
        if (seen.has(name)) throw new FeatureRequestError(400, `feature reference '${ref}' is listed twice`);
        seen.add(name);
        const feature = this.onDemand.get(name);
        if (!feature) throw new FeatureRequestError(404, `unknown on-demand feature '${name}' (known: ${[...this.onDemand.keys()].join(', ') || 'none'})`);
        const inputs = feature.inputs.map((i) => {
          const view = this.views.get(i.family);
          if (!view?.features.some((f) => f.name === i.feature))
            throw new FeatureRequestError(404, `on-demand feature '${name}' reads ${i.family}:${i.feature}, which this server does not serve`);
          return { view, feature: i.feature };
        });
        return { feature, inputs };
      });
    const stored = storedRefs.length === 0 && onDemand.length > 0 ? [] : this.resolveRefs(storedRefs);
    return { stored, onDemand };
  }

  /** Refs grouped by view, in order of first mention. */
  resolveRefs(refs: readonly unknown[]): { view: OnlineViewSpec; feature: string; normalize?: NormalizeMethod }[] {
    if (refs.length === 0) throw new FeatureRequestError(400, "'features' is empty: list refs like 'user_features:watch_time_7d'");
    const seen = new Set<string>();
    return refs.map((ref) => {
      const m = typeof ref === 'string' ? REF.exec(ref) : null;
      if (!m)
        throw new FeatureRequestError(
          400,
          `invalid feature reference ${JSON.stringify(ref)}: expected 'view:feature', as in 'user_features:watch_time_7d' (or 'view:feature:zscore' to normalize it)`,
        );
      const key = `${m[1]}:${m[2]}`;
      if (seen.has(key)) throw new FeatureRequestError(400, `feature reference '${key}' is listed twice`);
      seen.add(key);
      const view = this.views.get(m[1]!);
      if (!view) throw new FeatureRequestError(404, `unknown feature view '${m[1]}' (known: ${[...this.views.keys()].join(', ') || 'none'})`);
      const f = view.features.find((x) => x.name === m[2]);
      if (!f) throw new FeatureRequestError(404, `unknown feature '${m[2]}' in view ${view.name} (features: ${view.features.map((x) => x.name).join(', ')})`);
      if (m[3] === undefined) return { view, feature: m[2]! };
      if (!isNormalizeMethod(m[3])) throw new FeatureRequestError(400, `feature reference '${ref as string}': ${unknownMethodMessage(m[3])}`);
      if (!isNormalizable(f.type)) throw new FeatureRequestError(400, notNormalizable(view.name, f));
      return { view, feature: m[2]!, normalize: m[3] };
    });
  }
}

export interface FeaturePlan {
  keyColumns: string[];
  entities: Record<string, unknown[]>;
  rows: number;
  reads: OnlineReadRequest[];
  /** Per requested feature, in request order: its output name, where its values are in the reads, its normalization. */
  outputs: { name: string; read: number; position: number; normalize?: NormalizeMethod }[];
  /** On-demand features, in request order, after the stored ones: where their stored inputs are in the reads. */
  onDemand: { name: string; feature: OnDemandFeature; inputs: { read: number; position: number }[] }[];
  /** The request fields' values, one array per field the on-demand features read, converted. */
  requestData: Record<string, Value[]>;
}

function notNormalizable(view: string, f: { name: string; type: string }): string {
  return `cannot normalize ${view}:${f.name}: it is ${f.type}, and only numeric features (${NORMALIZABLE_TYPES.join(', ')}) have normalization parameters`;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Checks a request body against the catalog and turns it into store reads. */
export function planRequest(catalog: Catalog, body: unknown, maxEntities: number, now: number = Date.now()): FeaturePlan {
  if (!isRecord(body)) throw new FeatureRequestError(400, 'the request body must be a JSON object with features (or feature_service) and entities');
  const known = new Set(['features', 'feature_service', 'entities', 'request_data', 'full_feature_names', 'normalize']);
  const extra = Object.keys(body).filter((k) => !known.has(k));
  if (extra.length > 0)
    throw new FeatureRequestError(
      400,
      `unknown field(s) ${extra.join(', ')} (expected features or feature_service, entities, request_data, full_feature_names, normalize)`,
    );
  if (body.normalize !== undefined && !isNormalizeMethod(body.normalize))
    throw new FeatureRequestError(400, `'normalize': ${unknownMethodMessage(body.normalize)}`);
  const normalizeAll = body.normalize as NormalizeMethod | undefined;

  let refs: unknown[];
  if (body.features !== undefined && body.feature_service !== undefined)
    throw new FeatureRequestError(400, "give either 'features' or 'feature_service', not both");
  if (body.feature_service !== undefined) {
    if (typeof body.feature_service !== 'string') throw new FeatureRequestError(400, "'feature_service' must be a string");
    const svc = catalog.featureServices.get(body.feature_service);
    if (!svc)
      throw new FeatureRequestError(
        404,
        `unknown feature service '${body.feature_service}' (known: ${[...catalog.featureServices.keys()].join(', ') || 'none'})`,
      );
    refs = svc;
  } else {
    if (!Array.isArray(body.features)) throw new FeatureRequestError(400, "'features' must be an array of 'view:feature' refs (or give 'feature_service')");
    refs = body.features;
  }
  const { stored: resolved, onDemand } = catalog.splitRefs(refs);
  const hidden = onDemand.flatMap((o) => o.inputs);
  if (body.full_feature_names !== undefined && typeof body.full_feature_names !== 'boolean')
    throw new FeatureRequestError(400, "'full_feature_names' must be true or false");
  const fullNames = body.full_feature_names === true;

  if (!isRecord(body.entities)) throw new FeatureRequestError(400, "'entities' must be an object mapping each entity key column to an array of values");
  const entities = body.entities;
  const keyColumns = [...new Set([...resolved, ...hidden].flatMap((r) => r.view.keys))];
  const missing = keyColumns.filter((k) => entities[k] === undefined);
  if (missing.length > 0)
    throw new FeatureRequestError(400, `missing entity key column(s) ${missing.join(', ')} (the requested views are keyed by ${keyColumns.join(', ')})`);
  const unused = Object.keys(entities).filter((k) => !keyColumns.includes(k));
  if (unused.length > 0)
    throw new FeatureRequestError(400, `entity column(s) ${unused.join(', ')} are not keys of the requested views (keys: ${keyColumns.join(', ')})`);
  // Every column an array before any length is compared, so that the message can list them all.
  const notArray = keyColumns.find((k) => !Array.isArray(entities[k]));
  if (notArray !== undefined) throw new FeatureRequestError(400, `entities.${notArray} must be an array of values, got ${jsonKind(entities[notArray])}`);
  const columns = entities as Record<string, unknown[]>;
  let rows = -1;
  for (const k of keyColumns) {
    const col = columns[k]!;
    if (rows >= 0 && col.length !== rows)
      throw new FeatureRequestError(400, `entity columns have different lengths: ${keyColumns.map((c) => `${c}: ${columns[c]!.length}`).join(', ')}`);
    rows = col.length;
    if (rows > maxEntities) throw new FeatureRequestError(413, `too many entities: ${rows} in one request, at most ${maxEntities}`);
    col.forEach((v, i) => {
      const problem = entityValueProblem(v);
      if (problem) throw new FeatureRequestError(400, `entities.${k}[${i}] ${problem}`);
    });
  }
  const requestData = planRequestData(body.request_data, onDemand, rows, now);
  if (rows < 0) rows = Object.values(requestData)[0]?.length ?? 1;
  if (rows === 0) throw new FeatureRequestError(400, 'no entities given: the entity columns are empty');

  const reads: OnlineReadRequest[] = [];
  const readOf = new Map<OnlineViewSpec, number>();
  const outputs: FeaturePlan['outputs'] = [];
  const readFor = (view: OnlineViewSpec): number => {
    let i = readOf.get(view);
    if (i === undefined) {
      i = reads.length;
      readOf.set(view, i);
      const cols = view.keys.map((k) => columns[k]!);
      const entityKeys = Array.from({ length: rows }, (_, r) => {
        const key = encodeEntityKey(cols.map((c) => String(c[r])));
        const bytes = Buffer.byteLength(key);
        if (bytes > MAX_ENTITY_KEY_BYTES)
          throw new FeatureRequestError(400, `entity row ${r} of view ${view.name} has a key of ${bytes} bytes, at most ${MAX_ENTITY_KEY_BYTES}`);
        return key;
      });
      reads.push({ view, entityKeys, features: [] });
    }
    return i;
  };
  for (const { view, feature, normalize } of resolved) {
    const i = readFor(view);
    const features = reads[i]!.features!;
    const type = view.features.find((f) => f.name === feature)!.type;
    const method = normalize ?? (normalizeAll !== undefined && isNormalizable(type) ? normalizeAll : undefined);
    outputs.push({ name: fullNames ? `${view.name}__${feature}` : feature, read: i, position: features.length, ...(method ? { normalize: method } : {}) });
    features.push(feature);
  }
  const onDemandOutputs = onDemand.map(({ feature, inputs }) => ({
    name: fullNames ? `${ON_DEMAND}__${feature.decl.name}` : feature.decl.name,
    feature,
    inputs: inputs.map(({ view, feature: f }) => {
      const read = readFor(view);
      const features = reads[read]!.features!;
      let position = features.indexOf(f);
      if (position < 0) position = features.push(f) - 1;
      return { read, position };
    }),
  }));
  const names = [...keyColumns, ...outputs.map((o) => o.name), ...onDemandOutputs.map((o) => o.name)];
  const clash = names.find((n, i) => names.indexOf(n) !== i);
  if (clash) throw new FeatureRequestError(400, `the name '${clash}' would appear twice in the response; set full_feature_names: true`);
  return { keyColumns, entities: columns, rows, reads, outputs, onDemand: onDemandOutputs, requestData };
}

/** Checks and converts `request_data` for the requested on-demand features; `rows` is -1 when no entity column gives it. */
function planRequestData(given: unknown, onDemand: { feature: OnDemandFeature }[], rows: number, now: number): Record<string, Value[]> {
  const fields = new Map<string, ExprType>();
  for (const { feature } of onDemand) for (const r of feature.request) fields.set(r.name, r.type);
  if (given !== undefined && !isRecord(given))
    throw new FeatureRequestError(400, "'request_data' must be an object mapping each request field to an array of values");
  const data = (given ?? {}) as Record<string, unknown>;
  const unused = Object.keys(data).filter((k) => !fields.has(k));
  if (unused.length > 0)
    throw new FeatureRequestError(
      400,
      `request_data field(s) ${unused.join(', ')} are read by no requested on-demand feature (fields read: ${[...fields.keys()].join(', ') || 'none'})`,
    );
  let n = rows;
  const out: Record<string, Value[]> = {};
  for (const [name, type] of fields) {
    let col = data[name];
    if (col === undefined && name === 'request_time') col = null;
    if (col === undefined) throw new FeatureRequestError(400, `missing request_data.${name} (${type}), read by the requested on-demand features`);
    if (col === null) {
      out[name] = [];
      continue;
    }
    if (!Array.isArray(col)) throw new FeatureRequestError(400, `request_data.${name} must be an array of values, got ${jsonKind(col)}`);
    if (n >= 0 && col.length !== n) throw new FeatureRequestError(400, `request_data.${name} has ${col.length} values for ${n} entity rows`);
    n = col.length;
    out[name] = col.map((v, i) => requestValue(v, type, `request_data.${name}[${i}]`));
  }
  // request_time not given: the server's clock, for every row.
  for (const [name, values] of Object.entries(out))
    if (values.length === 0 && (n !== 0 || rows < 0)) out[name] = new Array<Value>(Math.max(n, 1)).fill(Math.round(now) * 1000);
  return out;
}

/** A request value of a declared type in the evaluator's representation (TIMESTAMP: microseconds). */
function requestValue(v: unknown, type: ExprType, where: string): Value {
  if (v === null) return null;
  const bad = (): never => {
    throw new FeatureRequestError(400, `${where} must be ${type === 'TIMESTAMP' ? 'an ISO time' : `a ${type}`} or null, got ${JSON.stringify(v)}`);
  };
  switch (type) {
    case 'DOUBLE':
      return typeof v === 'number' ? v : bad();
    case 'BIGINT':
      return Number.isSafeInteger(v) ? (v as number) : bad();
    case 'BOOLEAN':
      return typeof v === 'boolean' ? v : bad();
    case 'VARCHAR':
      return typeof v === 'string' ? v : bad();
    case 'TIMESTAMP': {
      const ms = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : Number.NaN;
      return Number.isFinite(ms) ? ms * 1000 : bad();
    }
    case 'DOUBLE[]':
    case 'FLOAT[]':
      return Array.isArray(v) && v.every((x) => x === null || typeof x === 'number') ? (v as (number | null)[]) : bad();
    case 'VARCHAR[]':
      return Array.isArray(v) && v.every((x) => x === null || typeof x === 'string') ? (v as (string | null)[]) : bad();
  }
}

/** A stored value as the evaluator reads it: TIMESTAMP as microseconds, typed arrays as arrays. */
function storedValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.getTime() * 1000;
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  return v as Value;
}

/** The on-demand columns of a response, computed row by row from the stored inputs and the request data. */
function onDemandColumns(plan: FeaturePlan, results: OnlineReadResult[][]): FeatureColumn[] {
  const noTimestamps = new Array<null>(plan.rows).fill(null);
  return plan.onDemand.map(({ feature, inputs }) => {
    const values: Value[] = new Array(plan.rows);
    const statuses: FeatureStatus[] = new Array(plan.rows);
    for (let r = 0; r < plan.rows; r++) {
      const row: Record<string, Value> = {};
      feature.inputs.forEach((input, k) => {
        const res = results[inputs[k]!.read]![r]!;
        row[input.name] = res.status === 'present' ? storedValue(res.values[inputs[k]!.position]) : null;
      });
      for (const f of feature.request) row[f.name] = plan.requestData[f.name]![r] ?? null;
      const v = feature.evaluate(row as OnDemandRow);
      values[r] = v;
      statuses[r] = v === null ? 'NULL_VALUE' : 'PRESENT';
    }
    return { values, statuses, event_timestamps: noTimestamps };
  });
}

/** What a JSON value is, for messages: 'null', 'an array', 'an object', 'a string', ... */
function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Why an entity key value cannot be read, or undefined. Keys are text: a number is turned into one
 * with String(), which is faithful only for whole numbers that a JSON number holds exactly; larger
 * ones were already rounded by JSON.parse (another entity's key), and fractions have several spellings.
 */
function entityValueProblem(v: unknown): string | undefined {
  if (typeof v === 'string' || Number.isSafeInteger(v)) return undefined;
  if (typeof v !== 'number') return `must be a string or a number, got ${jsonKind(v)}`;
  if (Number.isInteger(v))
    return `is ${v}, beyond the whole numbers a JSON number holds exactly (up to ${Number.MAX_SAFE_INTEGER} in magnitude): it may have been rounded; give the key as a string`;
  return `is ${v}, not a whole number: give such a key as a string`;
}

const STATUS: Record<OnlineReadResult['status'], FeatureStatus> = { present: 'PRESENT', not_found: 'NOT_FOUND', outside_ttl: 'OUTSIDE_MAX_AGE' };

function isoValue(v: unknown): unknown {
  if (v instanceof Date) return isoTime(v.getTime());
  return Array.isArray(v) ? v.map(isoValue) : v;
}

/**
 * The response. Columns of one view share their event_timestamps array, and their statuses array when
 * no value is null, so that responseJson serializes each only once.
 */
export function buildResponse(plan: FeaturePlan, results: OnlineReadResult[][]): OnlineFeaturesResponse {
  const entityStatuses = new Array<FeatureStatus>(plan.rows).fill('PRESENT');
  const entityTimestamps = new Array<null>(plan.rows).fill(null);
  const entityColumns: FeatureColumn[] = plan.keyColumns.map((k) => ({
    values: plan.entities[k] as unknown[],
    statuses: entityStatuses,
    event_timestamps: entityTimestamps,
  }));
  const isoOf = results.map((rows) => rows.map((r) => (r.featureTimestamp === null ? null : isoTime(r.featureTimestamp))));
  const statusOf = results.map((rows) => rows.map((r) => STATUS[r.status]));
  const featureColumns = plan.outputs.map(({ read, position }): FeatureColumn => {
    const rows = results[read]!;
    const view = plan.reads[read]!.view;
    const isTimestamp = valueKind(view.features.find((f) => f.name === plan.reads[read]!.features![position])!.type).scalar === 'timestamp';
    // Timestamps as ISO strings here: a Date in the array would send JSON.stringify down its slow path.
    const values = isTimestamp ? rows.map((r) => isoValue(r.values[position])) : rows.map((r) => r.values[position]);
    const hasNull = rows.some((r, i) => r.status === 'present' && values[i] === null);
    const statuses = hasNull ? rows.map((r, i) => (r.status === 'present' && values[i] === null ? 'NULL_VALUE' : STATUS[r.status])) : statusOf[read]!;
    return { values, statuses, event_timestamps: isoOf[read]! };
  });
  return {
    metadata: { feature_names: [...plan.keyColumns, ...plan.outputs.map((o) => o.name), ...plan.onDemand.map((o) => o.name)] },
    results: [...entityColumns, ...featureColumns, ...onDemandColumns(plan, results)],
  };
}

/** JSON.stringify of a response, serializing each shared statuses / event_timestamps array once (most of the bytes). */
export function responseJson(r: OnlineFeaturesResponse): string {
  const done = new Map<unknown[], string>();
  const shared = (a: unknown[]) => {
    let json = done.get(a);
    if (json === undefined) {
      json = JSON.stringify(a);
      done.set(a, json);
    }
    return json;
  };
  const columns = r.results.map(
    (c) => `{"values":${JSON.stringify(c.values)},"statuses":${shared(c.statuses)},"event_timestamps":${shared(c.event_timestamps)}}`,
  );
  return `{"metadata":${JSON.stringify(r.metadata)},"results":[${columns.join(',')}]}`;
}

/** Plans, reads (one store call) and answers; `onStoreRead` gets the seconds the store took. */
export async function getOnlineFeatures(
  store: OnlineStore,
  catalog: Catalog,
  body: unknown,
  opts: {
    maxEntities: number;
    now?: number;
    onStoreRead?: (seconds: number, plan: FeaturePlan, results: OnlineReadResult[][]) => void;
    /** Where normalization parameters come from; without it, a request to normalize is refused. */
    normalization?: NormalizationSource;
  },
): Promise<OnlineFeaturesResponse> {
  const plan = planRequest(catalog, body, opts.maxEntities, opts.now);
  const started = performance.now();
  let results: OnlineReadResult[][];
  try {
    results = await readDistinct(store, plan.reads, opts.now);
  } catch (e) {
    throw new OnlineStoreReadError(`online store ${store.location} failed: ${(e as Error).message}`);
  }
  opts.onStoreRead?.((performance.now() - started) / 1000, plan, results);
  const response = buildResponse(plan, results);
  if (plan.outputs.some((o) => o.normalize)) await normalizeResponse(plan, results, response, opts.normalization);
  return response;
}

/**
 * The store read with each view's repeated entity keys asked once (one user and 1,000 candidate
 * videos read the user's record once), the results given back row for row.
 */
async function readDistinct(store: OnlineStore, reads: OnlineReadRequest[], now: number | undefined): Promise<OnlineReadResult[][]> {
  const maps = reads.map((r) => {
    const index = new Map<string, number>();
    const of = r.entityKeys.map((k) => {
      let i = index.get(k);
      if (i === undefined) index.set(k, (i = index.size));
      return i;
    });
    return { keys: [...index.keys()], of, repeated: index.size < r.entityKeys.length };
  });
  if (!maps.some((m) => m.repeated)) return store.read(reads, now);
  const results = await store.read(
    reads.map((r, i) => (maps[i]!.repeated ? { ...r, entityKeys: maps[i]!.keys } : r)),
    now,
  );
  return results.map((rows, i) => (maps[i]!.repeated ? maps[i]!.of.map((j) => rows[j]!) : rows));
}

const DAY_MS = 86_400_000;

/** The feature date whose as_of (D + 1 day, 00:00 UTC) is this feature_timestamp; undefined for a time off that grid. */
function featureDate(featureTimestamp: number): string | undefined {
  return featureTimestamp % DAY_MS === 0 ? new Date(featureTimestamp - DAY_MS).toISOString().slice(0, 10) : undefined;
}

/** Replaces the values of normalized columns by their normalized values (see the module comment). */
async function normalizeResponse(
  plan: FeaturePlan,
  results: OnlineReadResult[][],
  response: OnlineFeaturesResponse,
  source: NormalizationSource | undefined,
): Promise<void> {
  if (!source) throw new FeatureRequestError(400, 'this server has no normalization parameters (it was started without a lake): request without normalize');
  const normalized = plan.outputs.flatMap((o, k) => (o.normalize ? [{ o, k, method: o.normalize }] : []));
  const dates = new Set<string>();
  for (const { o } of normalized) {
    for (const row of results[o.read]!) {
      const date = row.featureTimestamp === null ? undefined : featureDate(row.featureTimestamp);
      if (row.status === 'present' && row.values[o.position] !== null && date) dates.add(date);
    }
  }
  const byDate = new Map<string, ReadonlyMap<string, NormalizationParameters>>();
  for (const date of [...dates].sort()) {
    let p: ReadonlyMap<string, NormalizationParameters> | null;
    try {
      p = await source.parameters(date);
    } catch (e) {
      throw new ParametersReadError(`normalization parameters of ${date} could not be read: ${(e as Error).message}`);
    }
    if (!p)
      throw new FeatureRequestError(
        400,
        `normalization parameters of feature date ${date} are missing: ${PARAMETERS_FAMILY} has no gold partition for it (compute it, or request without normalize)`,
      );
    byDate.set(date, p);
  }
  const keyCount = plan.keyColumns.length;
  for (const { o, k, method } of normalized) {
    const view = plan.reads[o.read]!.view;
    const feature = plan.reads[o.read]!.features![o.position]!;
    const column = response.results[keyCount + k]!;
    const rows = results[o.read]!;
    const statuses = [...column.statuses];
    const values = column.values.map((v, r) => {
      if (v === null || rows[r]!.status !== 'present') return v;
      const date = rows[r]!.featureTimestamp === null ? undefined : featureDate(rows[r]!.featureTimestamp!);
      const p = date === undefined ? undefined : byDate.get(date)!.get(`${view.name}:${feature}`);
      if (!hasParameters(method, p)) {
        statuses[r] = 'NO_NORMALIZATION_PARAMETERS';
        return null;
      }
      return normalizeValue(method, v as number, p);
    });
    response.results[keyCount + k] = { values, statuses, event_timestamps: column.event_timestamps };
  }
}
