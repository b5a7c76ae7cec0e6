// The layer rules (.dependency-cruiser.cjs, run by `npm test` over the repository) catch each kind of
// wrong-way import, on a small tree written to provoke every rule.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cruise, type IConfiguration } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const config = createRequire(import.meta.url)(resolve('.dependency-cruiser.cjs')) as IConfiguration;
const dir = mkdtempSync(join(tmpdir(), 'gold-layers-'));
const tree: Record<string, string> = {
  'src/shared/dates.ts': "import { x } from '../features/x.js';\nexport const d = x;\n",
  'src/features/x.ts': 'export const x = 1;\n',
  'src/features/cycle-a.ts': "import { b } from './cycle-b.js';\nexport const a = () => b;\n",
  'src/features/cycle-b.ts': "import { a } from './cycle-a.js';\nexport const b = () => a;\n",
  'src/lake/uses-workflow.ts': "import { w } from '../../workflows/w.js';\nexport const u = w;\n",
  'src/lake/uses-cli.ts': "import { c } from '../cli/c.js';\nexport const v = c;\n",
  'src/lake/uses-temporal.ts': "import { Connection } from '@temporalio/client';\nexport const t = Connection;\n",
  'src/cli/c.ts': "import { a } from '../../activities/a.js';\nexport const c = a;\n",
  'src/pipeline/p.ts': "import { randomBytes } from 'node:crypto';\nimport { x } from '../features/x.js';\nexport const p = [randomBytes, x];\n",
  'workflows/w.ts': "import { readFileSync } from 'node:fs';\nimport { x } from '../src/features/x.js';\nexport const w = [readFileSync, x];\n",
  'activities/a.ts': 'export const a = 1;\n',
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the layer rules', () => {
  it('name every wrong-way import, and only those', async () => {
    for (const [path, text] of Object.entries(tree)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    // @temporalio/client resolves from the repository's node_modules, as in the real tree.
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          baseUrl: '.',
          paths: { '@temporalio/client': [resolve('node_modules/@temporalio/client')] },
        },
      }),
    );
    {
      const result = await cruise(['src', 'workflows', 'activities'], {
        ruleSet: config,
        validate: true,
        tsPreCompilationDeps: true,
        doNotFollow: { path: 'node_modules' },
        baseDir: dir,
      });
      const output = result.output as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
      const found = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
      // Each wrong-way import named once, and nothing that follows the rules (features/x.ts, activities/a.ts).
      expect(found).toEqual([
        'core-knows-no-temporal: src/lake/uses-temporal.ts -> @temporalio/client',
        'core-not-into-adapters: src/lake/uses-workflow.ts -> workflows/w.ts',
        'core-not-into-top: src/lake/uses-cli.ts -> src/cli/c.ts',
        'no-circular: src/features/cycle-a.ts -> src/features/cycle-b.ts',
        'pipeline-imports-pure-code: src/pipeline/p.ts -> src/features/x.ts',
        'pipeline-pure: src/pipeline/p.ts -> crypto',
        'shared-at-the-bottom: src/shared/dates.ts -> src/features/x.ts',
        'top-not-into-workflows-or-activities: src/cli/c.ts -> activities/a.ts',
        'workflows-deterministic: workflows/w.ts -> fs',
        'workflows-import-pure-code: workflows/w.ts -> src/features/x.ts',
      ]);
    }
  });
});
