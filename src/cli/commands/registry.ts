import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { FAMILIES, family } from '../../features/families/index.js';
import { ON_DEMAND_FEATURES } from '../../features/on-demand/index.js';
import { FEATURE_SERVICES, featureService } from '../../features/services/index.js';
import { renderCatalogue } from '../../registry/catalogue.js';
import { describeDiff, diffSchemas } from '../../registry/diff.js';
import { describeServiceDiff, getService, latestServices, type RegisteredService, registerService, retireService } from '../../registry/services.js';
import { getSchema, listSchemas, type RegisteredSchema, registerFamily } from '../../registry/store.js';
import { action, CliError, output, parsePositiveInt, withLake } from '../context.js';

function renderSchema(r: RegisteredSchema): string {
  const s = r.schema;
  const width = Math.max(...s.features.map((f) => f.name.length), 8);
  return [
    `${s.family} v${r.version} (${r.change}, registered ${r.registeredAt}; declaration version ${s.declarationVersion})`,
    `  ${s.description}`,
    `  owner ${s.owner}, entity ${s.entity}, keys ${s.keys.map((k) => k.name).join(', ')}, ttl ${s.ttlSeconds} s`,
    ...s.features.map((f) => `  ${f.name.padEnd(width)}  ${f.type.padEnd(9)} ${f.nullable ? 'nullable' : '        '}  ${f.description}`),
    ...s.rules.map((x) => `  rule ${x.name}: ${x.sql}`),
  ].join('\n');
}

function renderService(r: RegisteredService): string {
  const s = r.schema;
  return [
    `${s.service} v${r.version} (${r.change}, registered ${r.registeredAt}; declaration version ${s.declarationVersion})`,
    `  ${s.description}`,
    `  owner ${s.owner}`,
    ...s.features.map((f) => `  ${f}`),
    ...(r.diff ? describeServiceDiff(r.diff).map((l) => `  since v${r.version - 1}: ${l.trim()}`) : []),
  ].join('\n');
}

const list = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function registerRegistry(program: Command): void {
  const registry = program.command('registry').description('feature schemas and their versions');

  registry
    .command('catalogue')
    .description('every declared family and feature (window, type, range, meaning) and feature service as Markdown: the docs/features.md of this code')
    .option('--out <file>', 'write it to this file instead of stdout')
    .action(
      action(async (opts: { out?: string }) => {
        const text = renderCatalogue(
          FAMILIES,
          FEATURE_SERVICES,
          ON_DEMAND_FEATURES.map((f) => f.decl),
        );
        if (opts.out) await writeFile(opts.out, text);
        else process.stdout.write(text);
      }),
    );

  registry
    .command('list')
    .description('every registered family with its latest version')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const all = await withLake(cmd, (lake) => listSchemas(lake));
        const latest = new Map<string, RegisteredSchema & { versions: number }>();
        for (const r of all) latest.set(r.family, { ...r, versions: (latest.get(r.family)?.versions ?? 0) + 1 });
        const rows = [...latest.values()].map((r) => ({
          family: r.family,
          version: r.version,
          versions: r.versions,
          features: r.schema.features.length,
          owner: r.schema.owner,
          ttlSeconds: r.schema.ttlSeconds,
          registeredAt: r.registeredAt,
        }));
        output(cmd, rows, () =>
          rows.length === 0
            ? 'no schemas registered (gold registry register)'
            : rows
                .map(
                  (r) =>
                    `${r.family.padEnd(22)} v${String(r.version).padEnd(3)} ${String(r.features).padStart(3)} features  owner ${r.owner}  ttl ${r.ttlSeconds} s  (${r.versions} version(s), latest ${r.registeredAt})`,
                )
                .join('\n'),
        );
      }),
    );

  registry
    .command('show <family>')
    .description("a family's schema (the latest version, or --version N)")
    .option('--version <n>', 'schema version', parsePositiveInt('version'))
    .action(
      action(async (name: string, opts: { version?: number }, cmd: Command) => {
        const r = await withLake(cmd, (lake) => getSchema(lake, name, opts.version));
        output(cmd, r, () => renderSchema(r));
      }),
    );

  registry
    .command('diff <family> <v1> <v2>')
    .description('what changed from version v1 to version v2')
    .action(
      action(async (name: string, v1: string, v2: string, _opts: unknown, cmd: Command) => {
        const [a, b] = [parsePositiveInt('version')(v1), parsePositiveInt('version')(v2)];
        const d = await withLake(cmd, async (lake) => diffSchemas((await getSchema(lake, name, a)).schema, (await getSchema(lake, name, b)).schema));
        output(cmd, d, () => [`${name} v${a} -> v${b}: ${d.change}`, ...describeDiff(d)].join('\n'));
      }),
    );

  registry
    .command('services')
    .description('every registered feature service at its latest version (or one service, --version N for an older one)')
    .argument('[service]', 'one service, with its features')
    .option('--version <n>', 'version of that service', parsePositiveInt('version'))
    .action(
      action(async (name: string | undefined, opts: { version?: number }, cmd: Command) => {
        const rows = await withLake(cmd, async (lake) => (name === undefined ? latestServices(lake) : [await getService(lake, name, opts.version)]));
        output(cmd, rows, () =>
          rows.length === 0
            ? 'no feature services registered (gold registry register)'
            : name === undefined
              ? rows
                  .map(
                    (r) =>
                      `${r.service.padEnd(26)} v${String(r.version).padEnd(3)} ${String(r.schema.features.length).padStart(3)} features  owner ${r.schema.owner}  (declaration version ${r.schema.declarationVersion}, ${r.registeredAt})${r.change === 'retired' ? '  retired' : ''}`,
                  )
                  .join('\n')
              : rows.map(renderService).join('\n'),
        );
      }),
    );

  registry
    .command('retire-service <service>')
    .description('record that a feature service whose declaration was deleted is no longer served: its features then no longer hold families back')
    .action(
      action(async (name: string, _opts: unknown, cmd: Command) => {
        if (FEATURE_SERVICES.some((s) => s.name === name))
          throw new CliError(`feature service '${name}' is still declared (src/features/services/): delete its declaration first`);
        const r = await withLake(cmd, (lake) => retireService(lake, name));
        output(cmd, { service: name, ...r }, () => `service ${name} v${r.version} (${r.change === 'none' ? 'already retired' : 'retired'})`);
      }),
    );

  registry
    .command('register')
    .description(
      "record the declared feature services, then the families' schemas (a new version for a compatible change; a breaking one needs a version bump, and a family may not remove a feature a registered service uses)",
    )
    .option('--families <list>', 'comma-separated families (default: all; with --services only, none)', list)
    .option('--services <list>', 'comma-separated feature services (default: all; with --families only, none)', list)
    .action(
      action(async (opts: { families?: string[]; services?: string[] }, cmd: Command) => {
        const some = opts.families !== undefined || opts.services !== undefined;
        const decls = opts.families ? opts.families.map(family) : some ? [] : FAMILIES;
        const services = opts.services ? opts.services.map(featureService) : some ? [] : FEATURE_SERVICES;
        const results = await withLake(cmd, async (lake) => {
          const out: ({ family: string } | { service: string })[] = [];
          // Services first: a service bumped to drop a feature lets its family remove that feature.
          for (const d of services) out.push({ service: d.name, ...(await registerService(lake, d)) });
          for (const d of decls) out.push({ family: d.name, ...(await registerFamily(lake, d)) });
          return out as ({ family?: string; service?: string } & { version: number; change: string })[];
        });
        output(cmd, results, () =>
          results.map((r) => `${r.family !== undefined ? r.family.padEnd(22) : `service ${r.service!}`.padEnd(22)} v${r.version} (${r.change})`).join('\n'),
        );
      }),
    );
}
