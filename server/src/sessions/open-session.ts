import { randomUUID } from 'node:crypto';
import type { SessionView, TenantView } from '../access/viewer.ts';
import { type AppendedRow, type PreparedEntry, type RecordedEvent, appendArgument, appendedEvent, prepareEntry } from '../audit/journal.ts';
import { type RequestMeta, signInOrigin } from '../context.ts';
import { formatIdSecret, hashSecret, newSecret } from '../tokens.ts';
import type { Recognition } from './known-devices.ts';
import type { IssuedSession } from './sessions.ts';
import { mintSessionSecret } from './session-token.ts';
import { jsonOf } from '../db/rows.ts';

export interface OpenedSession extends IssuedSession {
  /** A new device cookie, when the client did not prove itself with one. */
  deviceToken: string | null;
}

/** What vigil_open_session returns. */
export interface OpenedRow {
  device_id: string | null;
  appended: unknown;
}

/**
 * Everything a verified sign-in writes, prepared here and written by vigil_open_session in one
 * statement: always a new session with a new id (a token known before sign-in is never upgraded: no
 * fixation), the device it came from (a device never seen is journalled as `session.new_device`), and
 * `session.signed_in`.
 */
export class SessionOpening {
  private readonly newDeviceId = randomUUID();
  private readonly session: SessionView;
  private readonly token: string;
  private readonly deviceSecret: string;
  private readonly entries: PreparedEntry[];

  constructor(
    private readonly args: { tenant: TenantView; user: { id: string }; authMethod: 'password' | 'password+totp'; meta: RequestMeta; device: Recognition; now: Date },
  ) {
    const { tenant, user, meta, now } = args;
    const id = randomUUID();
    const { token, secretHash } = mintSessionSecret(id);
    this.token = token;
    this.deviceSecret = newSecret();
    this.session = {
      id,
      user: { id: user.id },
      secretHash,
      previousSecretHash: null,
      previousValidUntil: null,
      createdAt: now,
      rotatedAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + tenant.absoluteTimeoutSeconds * 1000),
      ip: meta.ip,
      userAgent: truncateUserAgent(meta.userAgent),
      authMethod: args.authMethod,
      steppedUpAt: null, // the sign-in is the proof until the first stepUp
      endedAt: null,
      endReason: null,
    };
    this.entries = this.journalEntries();
  }

  /** The arguments of vigil_open_session after the release: (tenant, session, device, entries). */
  arguments(): [string, string, string, string] {
    const { tenant, user, meta, device, now } = this.args;
    const s = this.session;
    const sessionRow = {
      id: s.id, tenant_id: tenant.id, user_id: user.id, secret_hash: s.secretHash, previous_secret_hash: null, previous_valid_until: null,
      created_at: now, rotated_at: now, last_seen_at: now, expires_at: s.expiresAt, ip: s.ip, user_agent: s.userAgent,
      auth_method: s.authMethod, stepped_up_at: null, ended_at: null, end_reason: null,
    };
    const deviceArgument = device.byCookie
      ? { knownId: device.byCookie.id, seenAt: now, ip: meta.ip, userAgent: s.userAgent }
      : { row: { id: this.newDeviceId, tenant_id: tenant.id, user_id: user.id, secret_hash: hashSecret(this.deviceSecret), ip: meta.ip, user_agent: s.userAgent, first_seen_at: now, last_seen_at: now } };
    const entries = this.entries.map((entry) => ({ ...appendArgument(entry), onlyForNewDevice: entry.fields.action === NEW_DEVICE }));
    return [tenant.id, JSON.stringify(sessionRow), JSON.stringify(deviceArgument), JSON.stringify(entries)];
  }

  /** The journal events the statement appended, in order, for publishing once committed. */
  recorded(row: OpenedRow): RecordedEvent[] {
    const appended = jsonOf<AppendedRow[]>(row.appended);
    return appended.map((a) => appendedEvent(this.entries.find((entry) => entry.fields.id === a.id)!, a));
  }

  result(row: OpenedRow): OpenedSession {
    return { session: this.session, token: this.token, deviceToken: row.device_id ? formatIdSecret({ id: row.device_id, secret: this.deviceSecret }) : null };
  }

  private journalEntries(): PreparedEntry[] {
    const { tenant, user, meta, device, now } = this.args;
    const origin = signInOrigin(meta, user.id);
    const entries = [
      prepareEntry(tenant.id, origin, now, { action: 'session.signed_in', target: { type: 'session', id: this.session.id }, details: { authMethod: this.args.authMethod } }),
    ];
    // A first sign-in (sign-up, accepted invitation) is not news; a device with its cookie is known.
    if (!device.byCookie && !device.quiet) {
      entries.push(prepareEntry(tenant.id, origin, now, { action: NEW_DEVICE, target: { type: 'user', id: user.id }, details: { deviceId: this.newDeviceId } }));
    }
    return entries;
  }
}

const NEW_DEVICE = 'session.new_device';

export function truncateUserAgent(userAgent: string | null): string | null {
  return userAgent?.slice(0, 512) ?? null;
}
