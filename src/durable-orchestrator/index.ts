export * from './agent-target';
export * from './approval-links';
export * from './durable-orchestrator';
export * from './workflow-schedule';
