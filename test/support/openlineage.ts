// Validation of OpenLineage events against the vendored JSON schemas (test/fixtures/openlineage): the
// run event against the 2-0-2 spec's RunEvent, and each facet against its own schema, found by its
// _schemaURL. Every event gold emits in the tests goes through here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const DIR = fileURLToPath(new URL('../fixtures/openlineage/', import.meta.url));
const read = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Record<string, unknown>;
const FACETS = [
  'ParentRunFacet.json',
  'NominalTimeRunFacet.json',
  'SchemaDatasetFacet.json',
  'DataQualityMetricsInputDatasetFacet.json',
  'ErrorMessageRunFacet.json',
];

function makeAjv() {
  // `example` and `examples` are annotations the spec files use.
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const core = read('OpenLineage.json');
  ajv.addSchema(core);
  // The facets refer to the core by older ids whose facet bases are the same (see NOTICE.md).
  for (const v of ['1-0-1', '1-0-2']) ajv.addSchema({ ...core, $id: `https://openlineage.io/spec/${v}/OpenLineage.json` });
  for (const f of FACETS) ajv.addSchema(read(f));
  return ajv;
}

let ajv: ReturnType<typeof makeAjv> | undefined;

/** The problems of an event (empty when it is valid): the schema's errors, and each facet against its schema. */
export function openLineageErrors(event: unknown): string[] {
  ajv ??= makeAjv();
  const errors: string[] = [];
  const runEvent = ajv.getSchema('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent')!;
  if (!runEvent(event)) errors.push(...(runEvent.errors ?? []).map((e) => `event${e.instancePath}: ${e.message}`));
  const e = event as { run?: { facets?: object }; inputs?: { facets?: object; inputFacets?: object }[]; outputs?: { facets?: object }[] };
  const facets: [string, unknown][] = [
    ...Object.entries(e.run?.facets ?? {}).map(([k, v]) => [`run.${k}`, v] as [string, unknown]),
    ...(e.inputs ?? []).flatMap((d, i) => [
      ...Object.entries(d.facets ?? {}).map(([k, v]) => [`inputs[${i}].${k}`, v] as [string, unknown]),
      ...Object.entries(d.inputFacets ?? {}).map(([k, v]) => [`inputs[${i}].inputFacets.${k}`, v] as [string, unknown]),
    ]),
    ...(e.outputs ?? []).flatMap((d, i) => Object.entries(d.facets ?? {}).map(([k, v]) => [`outputs[${i}].${k}`, v] as [string, unknown])),
  ];
  for (const [where, facet] of facets) {
    const url = (facet as { _schemaURL?: string })._schemaURL;
    const validate = url ? ajv.getSchema(url) : undefined;
    if (!validate) {
      errors.push(`${where}: no schema for _schemaURL ${url}`);
      continue;
    }
    if (!validate(facet)) errors.push(...(validate.errors ?? []).map((x) => `${where}${x.instancePath}: ${x.message}`));
  }
  return errors;
}
