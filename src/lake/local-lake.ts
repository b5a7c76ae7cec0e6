// The lake on a local folder. Writes go to a temporary file and are renamed into place (atomic on one
// file system); conditional creates use link(2), which fails if the target exists.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { containedPath } from './contain.js';
import { LakeNotFoundError, type Lake, type LakeEntry } from './lake.js';

export class LocalLake implements Lake {
  readonly kind = 'local' as const;

  constructor(readonly root: string, readonly uri: string = root) {}

  /** A key names a place under the root, never above it. */
  path(key: string): string {
    return containedPath(this.root, key);
  }

  async list(prefix: string): Promise<LakeEntry[]> {
    const out: LakeEntry[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw e;
      }
      for (const ent of entries) {
        const full = join(dir, ent.name);
        if (ent.isDirectory()) await walk(full);
        else if (ent.isFile() && !ent.name.includes('.tmp-')) {
          const st = await stat(full);
          out.push({ key: relative(this.root, full).split(sep).join('/'), size: st.size, version: String(st.mtimeMs) });
        }
      }
    };
    await walk(this.path(prefix));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async listDirs(prefix: string): Promise<string[]> {
    try {
      const entries = await readdir(this.path(prefix), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.path(key))).isFile();
    } catch {
      return false;
    }
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new LakeNotFoundError(key, this.uri);
      throw e;
    }
  }

  private async tempFor(key: string): Promise<string> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    return `${target}.tmp-${randomBytes(6).toString('hex')}`;
  }

  async write(key: string, data: Buffer | string): Promise<void> {
    const tmp = await this.tempFor(key);
    await writeFile(tmp, data);
    await rename(tmp, this.path(key));
  }

  async writeIfAbsent(key: string, data: Buffer | string): Promise<boolean> {
    const tmp = await this.tempFor(key);
    await writeFile(tmp, data);
    try {
      await link(tmp, this.path(key));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async upload(localPath: string, key: string): Promise<void> {
    const tmp = await this.tempFor(key);
    await copyFile(localPath, tmp, constants.COPYFILE_FICLONE);
    await rename(tmp, this.path(key));
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<number> {
    const n = (await this.list(prefix)).length;
    await rm(this.path(prefix), { recursive: true, force: true });
    return n;
  }

  async localFile(key: string): Promise<string> {
    if (!(await this.exists(key))) throw new LakeNotFoundError(key, this.uri);
    return this.path(key);
  }

  async close(): Promise<void> {}
}
