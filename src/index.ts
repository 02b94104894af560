// Public API of cdk-durable-agents. This file only re-exports; each construct lives in its
// own folder (src/durable-orchestrator, src/container-agent, src/data-tier, src/secure-api),
// the throwaway switch all of them read in src/throwaway, and code shared by several of them,
// but not public, in src/private.
export * from './workflow';
export * from './durable-orchestrator';
export * from './container-agent';
export * from './data-tier';
export * from './secure-api';
export * from './throwaway';
export * from './monitoring';
