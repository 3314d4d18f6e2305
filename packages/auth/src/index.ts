export * from './crypto/index.js';
export * from './errors.js';
export * from './outcomes.js';
