import { promises as fsp } from 'fs';
import * as path from 'path';
import type { EventPublisher, WorkflowEvent } from '../../ports';
import { checkId, jsonCopy } from '../../validation';

export interface LocalEventPublisherOptions {
  /**
   * File that receives one JSON line per event (the event as published), appended in
   * publish order. Its folder is created if needed.
   * @default - no file
   */
  readonly logFile?: string;
  /**
   * Called with (a copy of) each event once it is written, e.g. to show it in a console.
   * An error it throws makes `publish` reject.
   * @default - none
   */
  readonly sink?: (event: WorkflowEvent) => void;
}

/** EventPublisher for local runs: a JSON-lines file and an in-process callback. */
export class LocalEventPublisher implements EventPublisher {
  private readonly logFile?: string;
  private readonly sink?: (event: WorkflowEvent) => void;
  /** Appends queue behind each other so that lines stay in publish order. */
  private queue: Promise<void> = Promise.resolve();
  private folderReady = false;

  constructor(options: LocalEventPublisherOptions = {}) {
    this.logFile = options.logFile === undefined ? undefined : path.resolve(options.logFile);
    this.sink = options.sink;
  }

  public async publish(event: WorkflowEvent): Promise<void> {
    checkId('event type', event.type);
    checkId('event workflowId', event.workflowId);
    checkId('event time', event.time);
    const copy = jsonCopy(event); // throws on what JSON cannot hold, before anything is written
    const file = this.logFile;
    if (file !== undefined) {
      const line = JSON.stringify(copy) + '\n';
      const append = this.queue.catch(() => undefined).then(async () => {
        if (!this.folderReady) {
          await fsp.mkdir(path.dirname(file), { recursive: true });
          this.folderReady = true;
        }
        await fsp.appendFile(file, line, 'utf8');
      });
      this.queue = append;
      await append;
    }
    this.sink?.(copy);
  }
}
