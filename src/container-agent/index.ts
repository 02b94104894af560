export * from './agent-compute';
export * from './agent-image';
export * from './container-agent';
