// What every flow is handed: the request, the account dependencies, the acting user.
export * from './actor.js';
export * from './deps.js';
