import { lookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** A receiver Vigil will not call, said as a sentence (a setting, a private address, a bad URL). */
export class RefusedDestination extends Error {}

export interface Outcome {
  status: number | null;
  error: string | null;
}

/** What counts as delivered: a 2xx (a redirect is not followed, so a 3xx is not). */
export const succeeded = (outcome: Outcome): boolean => outcome.status !== null && outcome.status >= 200 && outcome.status < 300;

/**
 * Where a webhook may go (SSRF): http(s) only, no credentials in the URL, and every address the host resolves
 * to a public unicast one (no loopback, private, link-local — cloud metadata included — unique-local, CGNAT,
 * multicast or reserved), unless the operator allows private networks. Returns the address to connect to, so
 * that what was checked is what is called (a second resolution could answer otherwise: DNS rebinding).
 */
export async function vetDestination(raw: string, { allowPrivate, requireHttps }: { allowPrivate: boolean; requireHttps: boolean }): Promise<{ url: URL; address: string; family: 4 | 6 }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RefusedDestination('This is not a URL.');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !requireHttps)) throw new RefusedDestination(requireHttps ? 'Use an https:// URL.' : 'Use an http:// or https:// URL.');
  if (url.username || url.password) throw new RefusedDestination('Put no user name or password in the URL: deliveries are signed.');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) as 4 | 6 }] : await resolve(host);
  const refused = addresses.find(({ address }) => !allowPrivate && !isPublic(address));
  if (refused) throw new RefusedDestination(`${url.hostname} is ${refused.address === host ? 'an' : `at ${refused.address}, an`} address of a private, loopback or link-local network: webhooks go to public addresses only.`);
  return { url, address: addresses[0].address, family: addresses[0].family };
}

async function resolve(host: string): Promise<Array<{ address: string; family: 4 | 6 }>> {
  try {
    return (await lookup(host, { all: true, verbatim: true })) as Array<{ address: string; family: 4 | 6 }>;
  } catch {
    throw new RefusedDestination(`${host} does not resolve.`);
  }
}

function isPublic(address: string): boolean {
  const parsed = ipaddr.process(address);
  return parsed.range() === 'unicast';
}

/**
 * One POST to a vetted address, redirects not followed (a 3xx is an answer like any other), within the time
 * limit; the answer's body is read and dropped, up to 64 kB. Never throws: the outcome says what happened.
 */
export function post(target: { url: URL; address: string; family: 4 | 6 }, headers: Record<string, string>, body: string, timeoutMs: number, agent?: HttpAgent): Promise<Outcome> {
  const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const done = (outcome: Outcome) => resolve(outcome);
    const req = send(target.url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Vigil-Webhooks/1' },
      // Connect to the address that was vetted, whatever the host would resolve to now (autoSelectFamily asks for all).
      lookup: ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
        options.all ? callback(null, [{ address: target.address, family: target.family }]) : callback(null, target.address, target.family)) as never,
      timeout: timeoutMs,
      ...(agent ? { agent } : { agent: false }),
    });
    req.on('response', (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > 65_536) res.destroy();
      });
      res.on('end', () => done({ status: res.statusCode ?? null, error: null }));
      res.on('close', () => done({ status: res.statusCode ?? null, error: null }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => done({ status: null, error: error.message.slice(0, 300) }));
    req.end(body);
  });
}

/** One connection kept alive across a run of deliveries to one receiver (a TLS handshake each would cost more than the POST). */
export class KeptAlive {
  private current: HttpAgent | null = null;

  agent(url: URL): HttpAgent {
    this.current ??= url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
    return this.current;
  }

  close(): void {
    this.current?.destroy();
  }
}
