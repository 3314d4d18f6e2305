// The transactional e-mail outbox: templates and enqueueing in the caller's transaction.
export * from './enqueue-email.js';
export * from './notify-api-key-created.js';
export * from './templates.js';
