import { constants as fsConstants, promises as fsp } from 'fs';
import * as path from 'path';
import { ArtifactRefusedError, ArtifactStore } from '../../ports';
import { checkArtifactKey } from '../../validation';

/**
 * ArtifactStore for local runs: one file per key under a folder (`reports/a.md` is
 * `<dir>/reports/a.md`). Writes are atomic (temporary file, then rename). Keys that would
 * leave the folder are refused. Content types are not kept.
 *
 * Symbolic links are never followed: agents write into the folder, and a link there (to a file
 * or a folder) would let the server read, publish or write any path it can reach. A key whose
 * file, or a folder on its way, is a link is refused with an `ArtifactRefusedError`; the file
 * itself is opened with O_NOFOLLOW, so a link swapped in after the check is refused too.
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
    await this.refuseLinks(key, file, 'write');
    await this.prepareFolder(key, file);
    await this.replace(file, (temp) => fsp.writeFile(temp, body)).catch((e) => this.explain(key, e));
  }

  public async get(key: string): Promise<Uint8Array | undefined> {
    const buffer = await this.read(key, 'read');
    return buffer === undefined ? undefined : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  public async exists(key: string): Promise<boolean> {
    const file = this.fileOf(key);
    if (!(await this.refuseLinks(key, file, 'read'))) return false;
    try {
      return (await fsp.lstat(file)).isFile();
    } catch (e) {
      if (isAbsent(e)) return false;
      throw e;
    }
  }

  public async copy(fromKey: string, toKey: string): Promise<void> {
    const to = this.fileOf(toKey);
    const content = await this.read(fromKey, 'copy');
    if (content === undefined) {
      throw new Error(`cannot copy artifact '${fromKey}' to '${toKey}': '${fromKey}' not found in ${this.root}`);
    }
    await this.refuseLinks(toKey, to, 'write');
    await this.prepareFolder(toKey, to);
    await this.replace(to, (temp) => fsp.writeFile(temp, content)).catch((e) => this.explain(toKey, e));
  }

  /**
   * The content of a key's regular file, undefined when there is none; refuses a link (of the
   * file, or of a folder on its way) with an `ArtifactRefusedError`.
   */
  private async read(key: string, action: 'read' | 'copy'): Promise<Buffer | undefined> {
    const file = this.fileOf(key);
    if (!(await this.refuseLinks(key, file, action))) return undefined;
    let handle: fsp.FileHandle;
    try {
      // O_NOFOLLOW: a link put in place of the file after the check above fails to open (ELOOP).
      // (Flags are distinct bits, and O_RDONLY is 0: their sum is their union.)
      handle = await fsp.open(file, fsConstants.O_RDONLY + (fsConstants.O_NOFOLLOW ?? 0));
    } catch (e) {
      if (isAbsent(e)) return undefined;
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw this.linkRefused(key, action, file);
      throw e;
    }
    try {
      if (!(await handle.stat()).isFile()) return undefined;
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  /**
   * Checks each part of a key's path below the folder with lstat: refuses a symbolic link with an
   * `ArtifactRefusedError` naming the key and the link. Resolves false when a part is missing
   * (nothing is stored at the key), true otherwise.
   */
  private async refuseLinks(key: string, file: string, action: 'read' | 'copy' | 'write'): Promise<boolean> {
    let current = this.root;
    for (const part of path.relative(this.root, file).split(path.sep)) {
      current = path.join(current, part);
      let stats;
      try {
        stats = await fsp.lstat(current);
      } catch (e) {
        if (isAbsent(e)) return false;
        throw e;
      }
      if (stats.isSymbolicLink()) throw this.linkRefused(key, action, current);
    }
    return true;
  }

  private linkRefused(key: string, action: 'read' | 'copy' | 'write', link: string): ArtifactRefusedError {
    return new ArtifactRefusedError(`cannot ${action} artifact '${key}': ${link} is a symbolic link, and local artifacts never follow links `
      + `(a link could publish a file from outside ${this.root}); write the file itself under the artifact folder instead of linking to it`);
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
