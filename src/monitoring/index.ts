export * from './alarm-config';
export * from './alarm-destination';
