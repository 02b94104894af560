export * from './agent-compute';
export * from './agent-image';
export * from './agent-model';
export * from './container-agent';
export * from './container-agent-alarms';
export * from './reference-agent';
export type { AgentImageBuildOptions } from './image-build';
