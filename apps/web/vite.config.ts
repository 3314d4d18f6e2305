import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by the API server at `/` (packages/api/src/plugins/console.ts); in
// `vite` dev mode, /trpc goes to a server on :3000 so the session cookie stays same-origin.
export default defineConfig({
  plugins: [react()],
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // The server's CSP is script-src 'self': nothing inline, and no polyfill needed for ES2022 browsers.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: { proxy: { '/trpc': 'http://localhost:3000' } },
});
