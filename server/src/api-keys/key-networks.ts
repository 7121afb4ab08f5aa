import { isIPv4, isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import type { RequestMeta } from '../context.ts';
import { lockUntilCommit } from '../db/locks.ts';
import type { Services } from '../services.ts';
import { inTenantTransaction } from '../unit-of-work.ts';

const NEW_NETWORK = 'api_key.new_network';

/** The (key, network) pairs this process knows are journalled already: only what is known is cached. */
const journalled = new LRUCache<string, true>({ max: 50_000 });

/** An address's network as a key's use is judged by: IPv4 /24, IPv6 /48 (an IPv4-mapped IPv6 address is IPv4). */
export function networkOf(ip: string): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const v4 = mapped ?? ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(ip)) return null;
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 3).map((group) => parseInt(group, 16).toString(16)).join(':')}::/48`;
}

/**
 * The journal is the memory of where a key has been used: the first use from each network is journalled
 * (`api_key.new_network`, details.first for the key's very first), once across instances (under a lock of
 * the key and the network), and the detector alerts on every one after the first (alerts/detectors.ts).
 */
export async function noteKeyNetwork(services: Services, tenantId: string, key: { id: string; prefix: string; userId: string }, meta: RequestMeta): Promise<void> {
  const network = meta.ip ? networkOf(meta.ip) : null;
  if (!network || journalled.has(`${key.id}|${network}`)) return;
  const origin = { actorType: 'api_key' as const, actorId: key.userId, apiKeyId: key.id, sessionId: null, ip: meta.ip, userAgent: meta.userAgent };
  await inTenantTransaction(services, { tenantId, origin, viewer: null }, async ({ em, journal }) => {
    await lockUntilCommit(em, `vigil.key-network:${key.id}:${network}`);
    if (await em.count(AuditEvent, { action: NEW_NETWORK, targetId: key.id, details: { network } })) return;
    const first = (await em.count(AuditEvent, { action: NEW_NETWORK, targetId: key.id })) === 0;
    await journal.record({ action: NEW_NETWORK, target: { type: 'api_key', id: key.id }, details: { network, prefix: key.prefix, first } });
  });
  journalled.set(`${key.id}|${network}`, true);
}
