/**
 * The agent processes a local server started, recorded in its data folder (`agent-pids.json`),
 * so that the next server on that folder can stop those a crash left running. A pid is reused
 * by the system once its process is gone: a recorded process is only stopped when
 * `/proc/<pid>/cmdline` still shows the command it was started with.
 */
import * as fs from 'fs';
import * as path from 'path';

/** File name of the record, in the data folder. */
export const AGENT_PIDS_FILE = 'agent-pids.json';

interface Recorded {
  readonly pid: number;
  readonly command: readonly string[];
}

/** The record of the agent processes running now. Written synchronously, so a crash right after a start still finds it. */
export class AgentPidFile {
  private readonly file: string;
  private readonly running = new Map<number, readonly string[]>();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, AGENT_PIDS_FILE);
  }

  /** Records a process that was started. */
  add(pid: number, command: readonly string[]): void {
    this.running.set(pid, [...command]);
    this.write();
  }

  /** Forgets a process that ended. */
  remove(pid: number): void {
    if (!this.running.delete(pid)) return;
    if (this.running.size === 0) fs.rmSync(this.file, { force: true });
    else this.write();
  }

  /** Removes the record (at a clean stop, once every agent process was stopped). */
  clear(): void {
    this.running.clear();
    fs.rmSync(this.file, { force: true });
  }

  private write(): void {
    const data: Recorded[] = [...this.running].map(([pid, command]) => ({ pid, command }));
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(temp, JSON.stringify({ version: 1, server_pid: process.pid, processes: data }) + '\n');
      fs.renameSync(temp, this.file);
    } catch {
      // The record is a safety net for a crash; a failed write must not fail the task.
      fs.rmSync(temp, { force: true });
    }
  }
}

/** What `stopLeftoverAgents` did. */
export interface LeftoverAgents {
  /** Processes stopped (SIGKILL): recorded, alive, and still running the recorded command. */
  readonly stopped: number[];
  /** Recorded processes alive but running something else now (their pid was reused): left alone. */
  readonly reused: number[];
}

/**
 * Stops the agent processes a previous server on this folder recorded and left running (it was
 * killed), then removes the record. Call it once the data folder's lock is held.
 */
export function stopLeftoverAgents(dataDir: string): LeftoverAgents {
  const file = path.join(dataDir, AGENT_PIDS_FILE);
  const stopped: number[] = [];
  const reused: number[] = [];
  let recorded: Recorded[] = [];
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { processes?: unknown };
    if (Array.isArray(data.processes)) recorded = data.processes.filter(isRecorded);
  } catch {
    // No record (a clean stop removes it), or a torn one: nothing known to stop.
  }
  for (const { pid, command } of recorded) {
    if (pid === process.pid) continue;
    const cmdline = commandLineOf(pid);
    if (cmdline === undefined) continue; // gone
    if (cmdline.join('\0') !== command.join('\0')) {
      reused.push(pid);
      continue;
    }
    try {
      process.kill(pid, 'SIGKILL');
      stopped.push(pid);
    } catch {
      // ended meanwhile
    }
  }
  fs.rmSync(file, { force: true });
  return { stopped, reused };
}

/** The arguments of a running process (`/proc/<pid>/cmdline`), or undefined when it is gone or cannot be read. */
export function commandLineOf(pid: number): string[] | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined; // a zombie
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

function isRecorded(value: unknown): value is Recorded {
  const r = value as Recorded;
  return typeof r === 'object' && r !== null && Number.isInteger(r.pid) && r.pid > 0
    && Array.isArray(r.command) && r.command.every((w) => typeof w === 'string');
}
