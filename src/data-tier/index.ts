export * from './data-tier-profile';
export * from './data-tier';
