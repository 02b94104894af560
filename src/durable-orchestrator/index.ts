export * from './agent-target';
export * from './durable-orchestrator';
export * from './workflow-schedule';
