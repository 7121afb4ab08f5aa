// Vigil's process: `node server/start.mjs` (what `npm start`, the Dockerfile, the benchmarks and the
// startup tests run). Plain JavaScript, so that it runs before anything uses libuv's threadpool.
import { availableParallelism } from 'node:os';
import process from 'node:process';
import { register } from 'tsx/esm/api';

// argon2 hashes on libuv's threadpool. Sized to the hashing cap, the pool itself keeps the cap, and the
// hasher may leave the next hash waiting in it (see PasswordHasher). libuv reads this once, on first use.
process.env.UV_THREADPOOL_SIZE ??= process.env.PASSWORD_HASH_CONCURRENCY || String(availableParallelism());

register();
await import('./src/main.ts');
