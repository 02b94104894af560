/** The kit the reference agents are built with (bundled into each agent by esbuild). */
export * from './agent';
export * from './artifacts';
export * from './callback';
export * from './envelope';
export * from './lambda-runtime';
export * from './log';
export * from './model';
export * from './secrets';
export * from './sigv4';
export * from './worker';
export * from './usage';
