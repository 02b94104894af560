export * from './api-authorization';
export * from './secure-api';
export * from './secure-api-service';
export * from './service-capacity';
export * from './service-routing';
