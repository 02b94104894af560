/**
 * The runtime's ports on this machine: workflow state in a folder, artifacts in a folder, events
 * in a file (and to a listener), the given agent dispatcher, and a durable control bound later
 * (the controller that durable control runs needs these ports first).
 */
import * as path from 'path';
import { DurableControlRef } from './durable-control-ref';
import { CliError } from './errors';
import { LocalArtifactStore, LocalEventPublisher, LocalWorkflowStore } from '../runtime/adapters/local';
import type { AgentDispatcher, RuntimePorts, WorkflowEvent, WorkflowStore } from '../runtime/ports';

/** Opens the workflow state in `<dataDir>/workflows`; rejects with a `CliError` when it cannot be read. */
export function openWorkflowStore(dataDir: string): LocalWorkflowStore {
  try {
    return new LocalWorkflowStore({ dir: path.join(dataDir, 'workflows') });
  } catch (e) {
    throw new CliError(`cannot read the state in ${dataDir}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export interface LocalPortsOptions {
  /** The workflow state (see `openWorkflowStore`). */
  readonly store: WorkflowStore;
  /** Folder of the artifacts. */
  readonly artifactsDir: string;
  /** File every event is appended to, one JSON line each. */
  readonly eventLogFile: string;
  /** Receives every event once it is written. */
  readonly onEvent: (event: WorkflowEvent) => void;
  readonly dispatcher: AgentDispatcher;
}

/** The ports, and the holder of their durable control: bind it before the ports are used. */
export interface LocalPorts {
  readonly ports: RuntimePorts;
  readonly durable: DurableControlRef;
}

export function localPorts(options: LocalPortsOptions): LocalPorts {
  const durable = new DurableControlRef();
  const ports: RuntimePorts = {
    store: options.store,
    artifacts: new LocalArtifactStore(options.artifactsDir),
    events: new LocalEventPublisher({ logFile: options.eventLogFile, sink: options.onEvent }),
    dispatcher: options.dispatcher,
    durable,
  };
  return { ports, durable };
}
