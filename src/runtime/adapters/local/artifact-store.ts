import { promises as fsp } from 'fs';
import * as path from 'path';
import type { ArtifactStore } from '../../ports';
import { checkArtifactKey } from '../../validation';

/**
 * ArtifactStore for local runs: one file per key under a folder (`reports/a.md` is
 * `<dir>/reports/a.md`). Writes are atomic (temporary file, then rename). Keys that would
 * leave the folder are refused. Content types are not kept.
 */
export class LocalArtifactStore implements ArtifactStore {
  /** `localDir` is the folder as an absolute path (agents may run in another working directory). */
  public readonly location: { readonly localDir: string };
  private readonly root: string;
  private tempCounter = 0;

  constructor(dir: string) {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new Error('LocalArtifactStore: dir must be a folder path, got an empty value');
    }
    this.root = path.resolve(dir);
    this.location = { localDir: this.root };
  }

  public async put(key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    void contentType; // a file on disk has no content type
    const file = this.fileOf(key);
    await this.prepareFolder(key, file);
    await this.replace(file, (temp) => fsp.writeFile(temp, body)).catch((e) => this.explain(key, e));
  }

  public async get(key: string): Promise<Uint8Array | undefined> {
    const file = this.fileOf(key);
    try {
      const buffer = await fsp.readFile(file);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (e) {
      if (isAbsent(e)) return undefined;
      throw e;
    }
  }

  public async exists(key: string): Promise<boolean> {
    const file = this.fileOf(key);
    try {
      return (await fsp.stat(file)).isFile();
    } catch (e) {
      if (isAbsent(e)) return false;
      throw e;
    }
  }

  public async copy(fromKey: string, toKey: string): Promise<void> {
    const from = this.fileOf(fromKey);
    const to = this.fileOf(toKey);
    if (!(await this.exists(fromKey))) {
      throw new Error(`cannot copy artifact '${fromKey}' to '${toKey}': '${fromKey}' not found in ${this.root}`);
    }
    await this.prepareFolder(toKey, to);
    await this.replace(to, (temp) => fsp.copyFile(from, temp)).catch((e) => this.explain(toKey, e));
  }

  private async prepareFolder(key: string, file: string): Promise<void> {
    await fsp.mkdir(path.dirname(file), { recursive: true }).catch((e) => this.explain(key, e));
  }

  /**
   * Rethrows a file-system error, explained when it comes from keys nesting in each other
   * (`a` and `a/b`): S3 holds both, a folder cannot.
   */
  private explain(key: string, e: NodeJS.ErrnoException): never {
    if (e.code === 'EISDIR' || e.code === 'ENOTDIR' || e.code === 'EEXIST') {
      throw new Error(`cannot write artifact '${key}' under ${this.root}: another key is a file where this one needs a folder, `
        + `or a folder where this one needs a file (local artifacts are files, so 'a' and 'a/b' cannot both exist): ${e.message}`);
    }
    throw e;
  }

  /** The file of a key, after checking that it stays under the folder. */
  private fileOf(key: string): string {
    checkArtifactKey(key);
    const file = path.resolve(this.root, key);
    const relative = path.relative(this.root, file);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new Error(`artifact key '${key}' is not valid: it resolves outside ${this.root}`);
    }
    return file;
  }

  /** Writes a sibling temporary file with `write`, then renames it over `file`. */
  private async replace(file: string, write: (temp: string) => Promise<void>): Promise<void> {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++this.tempCounter}.tmp`);
    try {
      await write(temp);
      await fsp.rename(temp, file);
    } catch (e) {
      await fsp.rm(temp, { force: true });
      throw e;
    }
  }
}

/** Whether a file-system error means "no such file" (including a path through a file, or a folder). */
function isAbsent(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
