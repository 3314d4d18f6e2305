// Maintenance jobs: pruning spent sign-in artefacts and re-encrypting secrets under a new key.
export * from './prune-auth-artifacts.js';
export * from './rotate-secrets.js';
