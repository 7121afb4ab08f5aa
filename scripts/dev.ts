/**
 * `npm run dev`: the Vigil server on :4000 and the Vite dev server (hot reload) on :5173, which proxies
 * /graphql (HTTP and WebSocket) to it. Ctrl-C stops both; if the server stops, so does Vite.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER_PORT = 4000;
const VITE_ORIGINS = ['http://localhost:5173', 'http://127.0.0.1:5173'];
const SERVER_ORIGINS = [`http://localhost:${SERVER_PORT}`, `http://127.0.0.1:${SERVER_PORT}`];

// The browser's Origin is Vite's: the server must accept it for the WebSocket handshake.
const server: ChildProcess = spawn(process.execPath, ['server/start.mjs'], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, PORT: String(SERVER_PORT), ALLOWED_ORIGINS: process.env.ALLOWED_ORIGINS ?? [...VITE_ORIGINS, ...SERVER_ORIGINS].join(',') },
});

const vite = await createServer({ configFile: fileURLToPath(new URL('../dashboard/vite.config.ts', import.meta.url)) });
await vite.listen();
vite.printUrls();

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await vite.close();
  if (server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  process.exit(code);
}

server.once('exit', (code) => void stop(code ?? 0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop(0));
