export * from './alarm-config';
export * from './alarm-destination';
export * from './api-canary';
export * from './platform-dashboard';
