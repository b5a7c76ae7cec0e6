// The OpenAPI description of the feature server, served at /openapi.json; the feature refs and
// services it lists are the ones this server holds.
import { isNormalizable, NORMALIZE_METHODS } from '../offline/normalize.js';
import type { Catalog } from './online-features.js';

const error = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string', description: 'what is wrong and how to fix it' } },
};

export function openApiDocument(catalog: Catalog, maxEntities: number): Record<string, unknown> {
  const refs = [...catalog.views.values()].flatMap((v) => v.features.map((f) => `${v.name}:${f.name}`));
  const normalizedRefs = [...catalog.views.values()].flatMap((v) =>
    v.features.filter((f) => isNormalizable(f.type)).flatMap((f) => NORMALIZE_METHODS.map((m) => `${v.name}:${f.name}:${m}`)),
  );
  const keys = [...new Set([...catalog.views.values()].flatMap((v) => v.keys))];
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  return {
    openapi: '3.0.3',
    info: { title: 'gold feature server', version: '1', description: 'Online feature reads (Feast-compatible request and response shapes).' },
    paths: {
      '/get-online-features': {
        post: {
          summary: 'Feature values of a batch of entities, read from the online store in one call',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Request' } } } },
          responses: {
            '200': {
              description: 'One result per name in metadata.feature_names (entity key columns first)',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Response' } } },
            },
            '400': errorResponse(
              'Malformed request: bad JSON, bad refs, missing or unknown entity columns, columns of different lengths, an entity key over 1,024 bytes; an unknown normalization, normalization of a non-numeric feature, or no statistical_features partition for the feature date of a value to normalize',
            ),
            '401': errorResponse('No accepted bearer token (when the server has tokens)'),
            '404': errorResponse('Unknown feature view, feature or feature service'),
            '413': errorResponse(`More than ${maxEntities} entities, or a body over the server's limit`),
            '429': errorResponse("Too many requests in flight; retry after the Retry-After header's seconds"),
            '503': errorResponse('The online store (or, for normalize, the lake holding the parameters) is unavailable'),
          },
        },
      },
      '/health': {
        get: { summary: 'Whether the online store answers', responses: { '200': { description: 'Ready' }, '503': { description: 'Store unavailable' } } },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format' } } } },
    },
    components: {
      schemas: {
        Request: {
          type: 'object',
          required: ['entities'],
          properties: {
            features: {
              type: 'array',
              items: { type: 'string', enum: [...refs, ...normalizedRefs, ...[...catalog.onDemand.keys()].map((n) => `on_demand:${n}`)] },
              description:
                "refs 'view:feature'; or give feature_service. 'view:feature:zscore' (minmax, robust) normalizes a numeric feature; 'on_demand:name' is computed from stored features and request_data",
            },
            feature_service: { type: 'string', enum: [...catalog.featureServices.keys()] },
            entities: {
              type: 'object',
              description: `columnar entity keys: each key column of the requested views maps to an array of values (row i is every column's i-th value); at most ${maxEntities} rows`,
              properties: Object.fromEntries(
                keys.map((k) => [
                  k,
                  {
                    type: 'array',
                    items: { oneOf: [{ type: 'string' }, { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }] },
                  },
                ]),
              ),
              additionalProperties: false,
            },
            request_data: {
              type: 'object',
              description:
                'columnar request fields read by the requested on-demand features, one value per entity row (TIMESTAMP fields as ISO times; request_time defaults to the server clock)',
              properties: Object.fromEntries(
                [...catalog.onDemand.values()].flatMap((f) => f.request.map((r) => [r.name, { type: 'array', description: r.type }])),
              ),
              additionalProperties: false,
            },
            full_feature_names: { type: 'boolean', default: false, description: "name features 'view__feature' in the response" },
            normalize: {
              type: 'string',
              enum: [...NORMALIZE_METHODS],
              description:
                "normalize every numeric (BIGINT, DOUBLE) requested feature with the statistical_features parameters of the value's own feature date, as training sets do: zscore (x - mean) / stddev, minmax (x - min) / (max - min), robust (x - p50) / iqr; a zero scale (constant feature) gives 0; no parameters for the feature and date: null with status NO_NORMALIZATION_PARAMETERS",
            },
          },
          example: { features: refs.slice(0, 2), entities: Object.fromEntries(keys.slice(0, 1).map((k) => [k, ['u1', 'u2']])) },
        },
        Response: {
          type: 'object',
          properties: {
            metadata: { type: 'object', properties: { feature_names: { type: 'array', items: { type: 'string' } } } },
            results: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  values: {
                    type: 'array',
                    items: {},
                    description: 'one per entity row; TIMESTAMP features as ISO strings; null unless PRESENT; non-finite floats as null',
                  },
                  statuses: {
                    type: 'array',
                    items: { type: 'string', enum: ['PRESENT', 'NULL_VALUE', 'NOT_FOUND', 'OUTSIDE_MAX_AGE', 'NO_NORMALIZATION_PARAMETERS'] },
                  },
                  event_timestamps: {
                    type: 'array',
                    items: { type: 'string', format: 'date-time', nullable: true },
                    description: "the feature_timestamp of each value's row; null for entity columns and rows not found",
                  },
                },
              },
            },
          },
        },
        Error: error,
      },
    },
  };
}
