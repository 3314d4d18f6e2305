export * from './local-dns-server.js';
