// What every flow is handed: the request, the account dependencies, the acting user, and the
// use-case object that carries them.
export * from './actor.js';
export * from './deps.js';
export * from './use-case.js';
