// The lake on a local folder. Writes go to a temporary file and are renamed into place (atomic on one
// file system); conditional creates use link(2), which fails if the target exists. Durable on return:
// the file is fsynced before it is renamed or linked into place, then its folder (and any folder
// created for it), so that a commit's data files are on disk before its marker is written, and the
// marker before it is renamed, and a crash cannot leave a marker listing files that were lost.
import { randomBytes } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { containedPath } from './contain.js';
import { type Lake, type LakeEntry, LakeNotFoundError } from './lake.js';

/** Flushes a file's data, or a folder's entries, to the disk. */
async function fsyncPath(path: string): Promise<void> {
  const h = await open(path, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Writes a file and flushes it to the disk. */
async function writeSynced(path: string, data: Buffer | string): Promise<void> {
  const h = await open(path, 'w');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}

export class LocalLake implements Lake {
  readonly kind = 'local' as const;

  constructor(
    readonly root: string,
    readonly uri: string = root,
  ) {}

  /** A key names a place under the root, never above it. */
  path(key: string): string {
    return containedPath(this.root, key);
  }

  async list(prefix: string): Promise<LakeEntry[]> {
    const out: LakeEntry[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
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
      return entries
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
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

  /** A temporary name next to the key's file; folders created for it are made durable (each in its parent). */
  private async tempFor(key: string): Promise<string> {
    const target = this.path(key);
    const dir = dirname(target);
    const first = await mkdir(dir, { recursive: true });
    if (first !== undefined) {
      for (let d = dir; ; d = dirname(d)) {
        await fsyncPath(dirname(d));
        if (d === first) break;
      }
    }
    return `${target}.tmp-${randomBytes(6).toString('hex')}`;
  }

  async write(key: string, data: Buffer | string): Promise<void> {
    const tmp = await this.tempFor(key);
    const target = this.path(key);
    await writeSynced(tmp, data);
    await rename(tmp, target);
    await fsyncPath(dirname(target));
  }

  async writeIfAbsent(key: string, data: Buffer | string): Promise<boolean> {
    const tmp = await this.tempFor(key);
    const target = this.path(key);
    await writeSynced(tmp, data);
    try {
      await link(tmp, target);
      await fsyncPath(dirname(target));
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
    const target = this.path(key);
    await copyFile(localPath, tmp, constants.COPYFILE_FICLONE);
    await fsyncPath(tmp);
    await rename(tmp, target);
    await fsyncPath(dirname(target));
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
