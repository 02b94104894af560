export * from './throwaway';
