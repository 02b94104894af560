/**
 * The journal of the local durable engine: one append-only file of JSON lines per execution in a
 * folder (`<dataDir>/executions/<name>.jsonl`). Appends are group-committed: the lines every
 * caller appended while the previous batch was being written go out together, each file written
 * once and synced (fdatasync) per batch, and an append resolves only once its lines are on disk.
 *
 * A process killed mid-write leaves at most a torn last line: loading ignores it (and cuts it
 * off, so that the next append starts on a line of its own). When an execution ends, its file is
 * replaced (write, sync, rename) by one line: the end record.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** A line of the journal: an object with a type `t`. */
export interface JournalRecord {
  readonly t: string;
  readonly [key: string]: unknown;
}

/** What an execution's file held when the journal was loaded. */
export interface LoadedJournal {
  /** The execution's name, as given to `append`. */
  readonly name: string;
  readonly records: JournalRecord[];
  /** Whether a torn last line was found (and cut off). */
  readonly torn: boolean;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

interface OpenFile {
  readonly name: string;
  readonly file: string;
  handle?: fs.promises.FileHandle;
  pending: string[];
  waiters: Waiter[];
  /** Set by `compact`: the file is replaced by these records, then closed. */
  end?: JournalRecord[];
  /** Whether the file (and its directory entry) has been made durable once. */
  created: boolean;
}

/** Record type that marks a file whose execution has ended (written by `compact`). */
export const END_RECORD = 'end';

export class ExecutionJournal {
  private readonly files = new Map<string, OpenFile>();
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(public readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The file of an execution. */
  fileOf(name: string): string {
    return path.join(this.dir, `${safeName(name)}.jsonl`);
  }

  /** Appends records to an execution's file; resolves once they are on disk. */
  append(name: string, records: readonly JournalRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`the execution journal in ${this.dir} is closed`));
    const entry = this.open(name);
    for (const r of records) entry.pending.push(`${JSON.stringify(r)}\n`);
    return this.enqueue(entry);
  }

  /**
   * Replaces an execution's file by `records` (atomically: a temporary file renamed over it) and
   * forgets the file. Lines appended before are dropped (`records` replace them); lines appended
   * after are written after them.
   */
  compact(name: string, records: readonly JournalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`the execution journal in ${this.dir} is closed`));
    const entry = this.open(name);
    // Lines appended before are superseded by the end; lines appended after it follow it.
    entry.pending = [];
    entry.end = [...records];
    return this.enqueue(entry);
  }

  /** Whether an execution has a file (running or ended). */
  has(name: string): boolean {
    return this.files.has(name) || fs.existsSync(this.fileOf(name));
  }

  /** The records of one execution's file (a torn last line ignored), or undefined when it has none. */
  async read(name: string): Promise<JournalRecord[] | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.fileOf(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    return parseLines(text).records;
  }

  /**
   * Reads every execution file in the folder, cutting off torn last lines; leftover temporary
   * files of an interrupted compaction are removed. `name` is the execution's name as its first
   * record states it (`name` field), else the file's.
   */
  loadAll(): LoadedJournal[] {
    const loaded: LoadedJournal[] = [];
    for (const f of fs.readdirSync(this.dir).sort()) {
      const file = path.join(this.dir, f);
      if (f.endsWith('.tmp')) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (!f.endsWith('.jsonl')) continue;
      const text = fs.readFileSync(file, 'utf8');
      const { records, goodLength, torn } = parseLines(text);
      if (torn) fs.truncateSync(file, goodLength);
      const first = records[0];
      const name = first && typeof first.name === 'string' ? first.name : f.slice(0, -'.jsonl'.length);
      loaded.push({ name, records, torn });
    }
    return loaded;
  }

  /** Writes what is pending and closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
    for (const entry of this.files.values()) await entry.handle?.close().catch(() => undefined);
    this.files.clear();
  }

  private open(name: string): OpenFile {
    let entry = this.files.get(name);
    if (!entry) {
      entry = { name, file: this.fileOf(name), pending: [], waiters: [], created: false };
      this.files.set(name, entry);
    }
    return entry;
  }

  private enqueue(entry: OpenFile): Promise<void> {
    const done = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    this.kick();
    return done;
  }

  /**
   * Starts the write loop unless it runs. A line queued while a loop is ending (it found nothing
   * to write, and has not yet cleared `running`) starts the next loop as that one ends.
   */
  private kick(): void {
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if ([...this.files.values()].some((f) => f.waiters.length > 0)) this.kick();
    });
  }

  /** Writes batches until nothing is pending: every file with something pending once per batch. */
  private async loop(): Promise<void> {
    // Let the callers of this turn of the event loop add their lines to the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const batch = [...this.files.values()].filter((f) => f.waiters.length > 0);
      if (batch.length === 0) return;
      await Promise.all(batch.map((f) => this.writeOne(f)));
    }
  }

  private async writeOne(entry: OpenFile): Promise<void> {
    const lines = entry.pending.splice(0);
    const waiters = entry.waiters.splice(0);
    const end = entry.end;
    entry.end = undefined;
    try {
      if (end) {
        await entry.handle?.close();
        entry.handle = undefined;
        const tmp = `${entry.file}.tmp`;
        await fs.promises.writeFile(tmp, end.map((r) => `${JSON.stringify(r)}\n`).join('') + lines.join(''), { mode: 0o600 });
        const h = await fs.promises.open(tmp, 'r+');
        try {
          await h.datasync();
        } finally {
          await h.close();
        }
        await fs.promises.rename(tmp, entry.file);
        await syncDir(this.dir);
        entry.created = true;
        if (this.files.get(entry.name) === entry && entry.waiters.length === 0) this.files.delete(entry.name);
      } else if (lines.length > 0) {
        if (!entry.handle) entry.handle = await fs.promises.open(entry.file, 'a', 0o600);
        await entry.handle.write(lines.join(''));
        await entry.handle.datasync();
        if (!entry.created) {
          entry.created = true;
          await syncDir(this.dir);
        }
      }
      for (const w of waiters) w.resolve();
    } catch (e) {
      for (const w of waiters) w.reject(e);
    }
  }
}

/** Parses JSON lines; a last line that is not complete (no line break) or not JSON is torn. */
function parseLines(text: string): { records: JournalRecord[]; goodLength: number; torn: boolean } {
  const records: JournalRecord[] = [];
  let offset = 0;
  let goodLength = 0;
  let torn = false;
  while (offset < text.length) {
    const nl = text.indexOf('\n', offset);
    const line = nl < 0 ? text.slice(offset) : text.slice(offset, nl);
    const next = nl < 0 ? text.length : nl + 1;
    let record: JournalRecord | undefined;
    try {
      const value: unknown = JSON.parse(line);
      if (value !== null && typeof value === 'object' && typeof (value as { t?: unknown }).t === 'string') record = value as JournalRecord;
    } catch {
      record = undefined;
    }
    if (nl < 0 || record === undefined) {
      if (line.trim() === '' && nl >= 0) {
        offset = next;
        goodLength += Buffer.byteLength(line) + 1;
        continue;
      }
      // Only the last line can be torn (appends are whole lines); a bad line before it ends the file too.
      torn = true;
      break;
    }
    records.push(record);
    offset = next;
    goodLength += Buffer.byteLength(line) + 1;
  }
  return { records, goodLength, torn };
}

/** A file name for an execution: its name when that is safe, else a hash of it. */
function safeName(name: string): string {
  if (/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/.test(name)) return name;
  return `x-${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}

async function syncDir(dir: string): Promise<void> {
  let h: fs.promises.FileHandle | undefined;
  try {
    h = await fs.promises.open(dir, 'r');
    await h.sync();
  } catch {
    // Some platforms cannot sync a directory; the rename is still atomic.
  } finally {
    await h?.close().catch(() => undefined);
  }
}
