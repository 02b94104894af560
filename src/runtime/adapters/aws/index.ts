export * from './agent-dispatcher';
export * from './artifact-store';
export * from './event-publisher';
export * from './workflow-store';
export * from './agent-targets';
