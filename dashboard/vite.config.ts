import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { type Plugin, defineConfig } from 'vite';

/** The Vigil server that `npm run dev` starts beside this dev server. */
const VIGIL = 'http://127.0.0.1:4000';

const page = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** In dev, the operators' console's client-side routes get its own index.html, as the server does (app.ts). */
const opsConsoleRoutes: Plugin = {
  name: 'vigil-ops-console-routes',
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      const path = (req.url ?? '').split('?')[0];
      if (/^\/ops(\/[\w-]*)?$/.test(path) && path !== '/ops/graphql') req.url = '/ops/index.html';
      next();
    });
  },
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [svelte(), opsConsoleRoutes],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Two apps, no shared session: the companies' dashboard at / and the platform operators' console at /ops/.
    rolldownOptions: { input: { dashboard: page('./index.html'), ops: page('./ops/index.html') } },
  },
  server: {
    port: 5173,
    strictPort: true,
    // HTTP and the graphql-ws upgrade both go to the server, so the dashboard stays same-origin.
    proxy: { '/graphql': { target: VIGIL, ws: true }, '/ops/graphql': { target: VIGIL } },
  },
});
