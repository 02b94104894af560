export * from './data-tier-nat';
export * from './data-tier-profile';
export * from './data-tier';
