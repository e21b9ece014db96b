/** The public engine API for agents other than OpenCode: machines and adapters wired together. */
export * from './machines/index.js';
export * from './errors.js';
export * from './adapters/storage/index.js';
