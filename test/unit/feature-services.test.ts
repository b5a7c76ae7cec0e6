// Feature service declarations (checked against the families when they load) and the registry's
// compatibility rules for them (pure).
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/features/families/index.js';
import { ON_DEMAND_FEATURES } from '../../src/features/on-demand/index.js';
import { FEATURE_SERVICES, featureService } from '../../src/features/services/index.js';
import { checkService, checkServices, type FeatureServiceDecl, InvalidFeatureServiceError } from '../../src/features/services/types.js';
import { onlineViewOf } from '../../src/online/views.js';
import { diffServices, serviceSchemaFromDecl } from '../../src/registry/services.js';
import { Catalog } from '../../src/serving/online-features.js';
import { servedFeatureServices } from '../../src/serving/view-provider.js';

const svc = (features: string[], over: Partial<FeatureServiceDecl> = {}): FeatureServiceDecl => ({
  name: 'toy_service',
  version: 1,
  description: 'a toy service',
  owner: 'tests',
  features,
  ...over,
});

describe('feature service declarations', () => {
  it('ship ranking_v1, candidate_retrieval_v1 and ranking_v2, valid against the families and on-demand features', () => {
    expect(FEATURE_SERVICES.map((s) => s.name)).toEqual(['ranking_v1', 'candidate_retrieval_v1', 'ranking_v2']);
    expect(featureService('ranking_v1').features).toContain('user_features:watch_time_7d:zscore');
    expect(() => featureService('nope')).toThrow(/unknown feature service 'nope' \(known: ranking_v1, candidate_retrieval_v1, ranking_v2\)/);
    expect(checkService(featureService('ranking_v1'), FAMILIES)[0]).toEqual({ family: 'user_features', feature: 'watch_time_7d', normalize: 'zscore' });
  });

  it('are served with their methods by a catalog of the online views', () => {
    const views = FAMILIES.filter((f) => f.online !== false).map((f) => onlineViewOf(f, 1));
    const catalog = new Catalog({ views, featureServices: servedFeatureServices(FEATURE_SERVICES, views), onDemand: ON_DEMAND_FEATURES });
    expect([...catalog.featureServices.keys()]).toEqual(['ranking_v1', 'candidate_retrieval_v1', 'ranking_v2']);
    expect(catalog.resolveRefs(catalog.featureServices.get('ranking_v1')!)[0]).toMatchObject({ feature: 'watch_time_7d', normalize: 'zscore' });
    // A service reading a view not served (its family never registered) is left out, not a failed start.
    expect(
      Object.keys(
        servedFeatureServices(
          FEATURE_SERVICES,
          views.filter((v) => v.name !== 'user_embeddings'),
        ),
      ),
    ).toEqual(['ranking_v1']);
  });

  it.each([
    ['an unknown family', svc(['nope_features:a']), /'nope_features:a' names no declared family/],
    ['an unknown feature', svc(['user_features:nope']), /family user_features declares no feature 'nope'/],
    ['a duplicate', svc(['user_features:watch_time_7d', 'user_features:watch_time_7d:zscore']), /'user_features:watch_time_7d' is listed twice/],
    ['an unknown method', svc(['user_features:watch_time_7d:scale']), /unknown normalization 'scale'/],
    ['a method on a VARCHAR', svc(['user_features:top_category_30d:zscore']), /top_category_30d is VARCHAR, and only numeric features/],
    ['a method on a vector', svc(['user_embeddings:vector:minmax']), /only numeric features/],
    ['a malformed ref', svc(['user_features']), /invalid feature reference 'user_features'/],
    ['no features', svc([]), /at least one feature/],
    ['a bad name', svc(['user_features:watch_time_7d'], { name: 'Ranking' }), /lower-case/],
    ['a fractional version', svc(['user_features:watch_time_7d'], { version: 1.5 }), /whole number/],
  ])('refuse %s', (_what, decl, message) => {
    expect(() => checkService(decl, FAMILIES)).toThrow(InvalidFeatureServiceError);
    expect(() => checkService(decl, FAMILIES)).toThrow(message);
  });

  it('refuse two services of one name', () => {
    const s = svc(['user_features:watch_time_7d']);
    expect(() => checkServices([s, s], FAMILIES)).toThrow(/'toy_service' is declared twice/);
  });
});

describe('diffServices', () => {
  const base = serviceSchemaFromDecl(svc(['f:a', 'f:b:zscore']));
  const diff = (features: string[], over: Partial<FeatureServiceDecl> = {}) => diffServices(base, serviceSchemaFromDecl(svc(features, over)));

  it('finds no change in the same refs', () => {
    expect(diff(['f:a', 'f:b:zscore'])).toEqual({ change: 'none', added: [], removed: [], methodChanged: [], metadata: [] });
  });
  it('calls an added feature, a description, an owner or an order compatible', () => {
    expect(diff(['f:a', 'f:b:zscore', 'g:c'])).toMatchObject({ change: 'compatible', added: ['g:c'] });
    expect(diff(['f:b:zscore', 'f:a'], { owner: 'x' })).toMatchObject({ change: 'compatible', metadata: ['owner', 'featureOrder'] });
  });
  it('calls a removed or renamed feature, or a changed normalization, breaking', () => {
    expect(diff(['f:a'])).toMatchObject({ change: 'breaking', removed: ['f:b'] });
    expect(diff(['f:a2', 'f:b:zscore'])).toMatchObject({ change: 'breaking', removed: ['f:a'], added: ['f:a2'] });
    expect(diff(['f:a', 'f:b'])).toMatchObject({ change: 'breaking', methodChanged: [['f:b:zscore', 'f:b']] });
    expect(diff(['f:a:robust', 'f:b:zscore'])).toMatchObject({ change: 'breaking', methodChanged: [['f:a', 'f:a:robust']] });
  });
});

describe('feature services with on-demand features', () => {
  it('accept declared on-demand refs and refuse unknown or normalized ones', () => {
    expect(checkService(featureService('ranking_v2'), FAMILIES, ON_DEMAND_FEATURES).slice(-1)).toEqual([
      { family: 'on_demand', feature: 'request_hour_local' },
    ]);
    expect(() => checkService(svc(['on_demand:nope']), FAMILIES, ON_DEMAND_FEATURES)).toThrow(/'on_demand:nope' names no declared on-demand feature/);
    expect(() => checkService(svc(['on_demand:user_video_cosine:zscore']), FAMILIES, ON_DEMAND_FEATURES)).toThrow(/on-demand features are not normalized/);
  });
});
