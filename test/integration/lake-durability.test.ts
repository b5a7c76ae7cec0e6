// A local commit is durable in order: each data file is fsynced before it is renamed into place and
// its folder after; the marker likewise, after the data files. The file system calls are the real
// ones, recorded on the way through.
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { COMMIT_MARKER, commitPartition, openLake } from '../../src/lake/index.js';
import { tempDir } from '../support/env.js';

const calls: string[] = [];

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    open: async (path: string, flags?: string) => {
      const h = await fs.open(path, flags);
      const sync = h.sync.bind(h);
      h.sync = async () => {
        await sync();
        calls.push(`sync ${String(path)}`);
      };
      return h;
    },
    rename: async (from: string, to: string) => {
      await fs.rename(from, to);
      calls.push(`rename ${from} ${to}`);
    },
  };
});

describe('a local commit', () => {
  it('fsyncs each data file and its folder before the marker, and the marker before it is renamed into place', async () => {
    const root = join(tempDir('gold-durable-'), 'lake');
    const lake = openLake(root, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    const staged = join(tempDir(), 'a.parquet');
    writeFileSync(staged, 'data');
    calls.length = 0;
    const m = await commitPartition(lake, 'gold/f/feature_date=2026-01-01', [{ localPath: staged }, { localPath: staged }]);
    const dir = join(root, 'gold/f/feature_date=2026-01-01');
    const at = (re: RegExp): number => {
      const i = calls.findIndex((c) => re.test(c));
      expect(i, `${re} in\n${calls.join('\n')}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const markerTmp = at(new RegExp(`^sync ${esc(join(dir, COMMIT_MARKER))}\\.tmp-`));
    const markerRename = at(new RegExp(`^rename \\S+ ${esc(join(dir, COMMIT_MARKER))}$`));
    // The folders created for the partition are made durable in their parents.
    expect(at(new RegExp(`^sync ${esc(join(root, 'gold/f'))}$`))).toBeLessThan(markerTmp);
    for (const f of m.files) {
      const target = join(dir, f.name);
      const fileSync = at(new RegExp(`^sync ${esc(target)}\\.tmp-`));
      const rename = at(new RegExp(`^rename \\S+ ${esc(target)}$`));
      const dirSync = calls.findIndex((c, i) => i > rename && c === `sync ${dir}`);
      expect([fileSync < rename, rename < dirSync, dirSync < markerTmp], basename(target)).toEqual([true, true, true]);
    }
    expect(markerTmp).toBeLessThan(markerRename);
    expect(calls.slice(markerRename + 1)).toContain(`sync ${dir}`);
    await lake.close();
  });
});
