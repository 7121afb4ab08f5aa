// The container's health probe (Dockerfile HEALTHCHECK, docker-compose): GET /readyz on this machine, over
// HTTPS when TLS_CERT_FILE is set, trusting HEALTHCHECK_CA_FILE (or the system's CAs). Exit 0 when ready.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';

const port = Number(process.env.PORT ?? 4000);
const tls = Boolean(process.env.TLS_CERT_FILE);
const ca = process.env.HEALTHCHECK_CA_FILE ? readFileSync(process.env.HEALTHCHECK_CA_FILE) : undefined;
const options = { host: 'localhost', port, path: '/readyz', timeout: 2500, ...(tls && ca ? { ca } : {}) };
const request = (tls ? httpsGet : httpGet)(options, (response) => process.exit(response.statusCode === 200 ? 0 : 1));
request.on('error', () => process.exit(1));
request.on('timeout', () => process.exit(1));
