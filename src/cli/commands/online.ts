import { type Command, InvalidArgumentError } from 'commander';
import type { Settings } from '../../config/settings.js';
import { engineOptions } from '../../engine/duckdb.js';
import { openLake } from '../../lake/index.js';
import { isNormalizeMethod, NORMALIZE_METHODS, type NormalizeMethod } from '../../offline/normalize.js';
import { openOnlineStore } from '../../online/open.js';
import { LakeNormalizationSource } from '../../serving/normalization-parameters.js';
import { Catalog, getOnlineFeatures, type OnlineFeaturesResponse } from '../../serving/online-features.js';
import { servingCatalog } from '../../serving/view-provider.js';
import { action, CliError, output, settingsFrom } from '../context.js';

export interface OnlineQuery {
  /** Entity key columns and their values (several values: several entity rows). */
  entities: Record<string, string[]>;
  /** 'view:feature' refs; default every feature of every view keyed by the given columns. */
  features?: string[];
  /** A feature service's refs instead of features (sent as feature_service, as a client of the server would). */
  featureService?: string;
  /** Normalize every numeric feature (refs 'view:feature:method' set one feature's). */
  normalize?: NormalizeMethod;
  /** Request fields of on-demand features, as text (one value per entity row), converted to their declared types. */
  requestData?: Record<string, string[]>;
}

/** A request field's text as the JSON value its declared type takes ('null' is null; numbers, booleans and arrays as JSON). */
function requestJson(text: string, type: string | undefined): unknown {
  if (text === 'null') return null;
  if (type === undefined || type === 'VARCHAR' || type === 'TIMESTAMP') return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`--request value '${text}' is not a ${type} (numbers, true/false and arrays as JSON)`);
  }
}

function parseMethod(v: string): NormalizeMethod {
  if (!isNormalizeMethod(v)) throw new InvalidArgumentError(`expected ${NORMALIZE_METHODS.join(', ')}`);
  return v;
}

function collectEntity(value: string, previous: Record<string, string[]> = {}): Record<string, string[]> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('expected KEY=VALUE, as in user_id=u123');
  const key = value.slice(0, at);
  return { ...previous, [key]: [...(previous[key] ?? []), value.slice(at + 1)] };
}

/** Reads through the same store, views and request checks as the feature server; also returns the refs read, in response order. */
export async function readOnlineFeatures(s: Settings, q: OnlineQuery): Promise<{ response: OnlineFeaturesResponse; refs: string[] }> {
  const catalog = new Catalog(await servingCatalog(s));
  const given = Object.keys(q.entities);
  if (q.features !== undefined && q.featureService !== undefined) throw new CliError('give --features or --feature-service, not both');
  const service = q.featureService === undefined ? undefined : catalog.featureServices.get(q.featureService);
  if (q.featureService !== undefined && !service)
    throw new CliError(
      `unknown feature service '${q.featureService}' (served: ${[...catalog.featureServices.keys()].join(', ') || 'none'}; a service is served when all its families are registered)`,
    );
  const features =
    service ??
    q.features ??
    [...catalog.views.values()].filter((v) => v.keys.every((k) => given.includes(k))).flatMap((v) => v.features.map((f) => `${v.name}:${f.name}`));
  if (features.length === 0) {
    throw new CliError(
      `no feature view is keyed by ${given.join(', ')} (views: ${[...catalog.views.values()].map((v) => `${v.name} by ${v.keys.join(', ')}`).join('; ')})`,
    );
  }
  const store = openOnlineStore(s.onlineStore, s.home);
  const lake = openLake(s.lake, s);
  try {
    const response = await getOnlineFeatures(
      store,
      catalog,
      {
        ...(q.featureService !== undefined ? { feature_service: q.featureService } : { features }),
        entities: q.entities,
        full_feature_names: true,
        ...(q.normalize ? { normalize: q.normalize } : {}),
        ...(q.requestData
          ? {
              request_data: Object.fromEntries(
                Object.entries(q.requestData).map(([k, vs]) => {
                  const type = [...catalog.onDemand.values()].flatMap((f) => f.request).find((r) => r.name === k)?.type;
                  return [k, vs.map((v) => requestJson(v, type))];
                }),
              ),
            }
          : {}),
      },
      { maxEntities: Number.MAX_SAFE_INTEGER, normalization: new LakeNormalizationSource(lake, engineOptions(s)) },
    );
    // On-demand columns come after the stored features' in the response.
    const onDemandRef = (r: string) => r.startsWith('on_demand:');
    return { response, refs: [...features.filter((r) => !onDemandRef(r)), ...features.filter(onDemandRef)] };
  } finally {
    await store.close();
    await lake.close();
  }
}

function show(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? 'null';
}

/** One block per entity row: its keys, then each feature with value, status and feature timestamp. */
function render(r: OnlineFeaturesResponse, refs: string[]): string {
  const names = r.metadata.feature_names;
  const keyCount = names.length - refs.length;
  const rows = r.results[0]?.values.length ?? 0;
  const width = Math.max(...refs.map((n) => n.length));
  const blocks: string[] = [];
  for (let i = 0; i < rows; i++) {
    const head = names
      .slice(0, keyCount)
      .map((n, k) => `${n}=${show(r.results[k]!.values[i])}`)
      .join(' ');
    const lines = refs.map((ref, j) => {
      const c = r.results[keyCount + j]!;
      const ts = c.event_timestamps[i];
      return `  ${ref.padEnd(width)}  ${show(c.values[i]).padEnd(12)}  ${c.statuses[i]}${ts ? `  (${ts})` : ''}`;
    });
    blocks.push([head, ...lines].join('\n'));
  }
  return blocks.join('\n\n');
}

export function registerOnline(program: Command): void {
  const features = program.command('features').description('feature values');
  features
    .command('online')
    .description('read feature values of entities from the online store (as the feature server does)')
    .option('--entity <KEY=VALUE>', 'an entity key value (required); repeat for composite keys or several entities', collectEntity)
    .option('--features <refs>', "comma-separated 'view:feature' refs (default: every feature of the views keyed by the given keys)", (v: string) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .option('--feature-service <name>', 'the features of a feature service (with the normalization its refs declare), instead of --features')
    .option(
      '--request <KEY=VALUE>',
      "a request field of on-demand features ('on_demand:name' refs), one per entity row; repeat (e.g. --request video_category=music --request request_time=2024-07-01T20:00:00Z)",
      collectEntity,
    )
    .option(
      '--normalize <method>',
      "normalize every numeric feature (zscore, minmax or robust) with the statistical_features parameters of the value's feature date (as training sets do)",
      parseMethod,
    )
    .action(
      action(
        async (
          opts: {
            entity?: Record<string, string[]>;
            features?: string[];
            featureService?: string;
            normalize?: NormalizeMethod;
            request?: Record<string, string[]>;
          },
          cmd: Command,
        ) => {
          if (!opts.entity) throw new CliError('give the entity to read with --entity KEY=VALUE, as in --entity user_id=u123');
          const { response, refs } = await readOnlineFeatures(settingsFrom(cmd), {
            entities: opts.entity,
            features: opts.features,
            ...(opts.featureService !== undefined ? { featureService: opts.featureService } : {}),
            ...(opts.normalize ? { normalize: opts.normalize } : {}),
            ...(opts.request ? { requestData: opts.request } : {}),
          });
          output(cmd, response, () => render(response, refs));
        },
      ),
    );
}
