export * from './agent-target';
export * from './durable-orchestrator';
