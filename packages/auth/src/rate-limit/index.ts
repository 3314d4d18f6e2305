// Fixed-window rate limits over a pluggable store (memory, or Redis in api).
export * from './rate-limiter.js';
