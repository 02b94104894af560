export * from './artifact-store';
export * from './event-publisher';
export * from './process-dispatcher';
export * from './workflow-store';
export { checkArtifactKey } from '../../validation';
