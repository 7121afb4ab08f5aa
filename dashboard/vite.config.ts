import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

/** The Vigil server that `npm run dev` starts beside this dev server. */
const VIGIL = 'http://127.0.0.1:4000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [svelte()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    port: 5173,
    strictPort: true,
    // HTTP and the graphql-ws upgrade both go to the server, so the dashboard stays same-origin.
    proxy: { '/graphql': { target: VIGIL, ws: true } },
  },
});
