import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditOrigin } from '../audit/journal.ts';
import type { RequestMeta } from '../context.ts';
import { ErrorCode, clientError } from '../errors.ts';
import type { Services } from '../services.ts';
import { type Work, inTenantTransaction } from '../unit-of-work.ts';
import type { TenantView, UserView } from '../access/viewer.ts';
import { type Recognition, rememberDevice } from './known-devices.ts';
import { type IssuedSession, openSession } from './sessions.ts';
import { ADDRESS_RULE, type Reservation, releaseAttempts, reserveAttempts, signInAttempts } from './sign-in-throttle.ts';

/**
 * One attempt to prove identity (password or confirmation code), counted against the client address
 * and the account, or the account's known device, whose lock an attacker elsewhere cannot trigger.
 */
export class SignInAttempt {
  private constructor(
    private readonly services: Services,
    private readonly tenantId: string,
    private readonly meta: RequestMeta,
    private readonly reservations: Reservation[],
  ) {}

  static async begin(services: Services, tenantId: string, meta: RequestMeta, account: { slug: string; email: string }, device: Recognition): Promise<SignInAttempt> {
    const attempts = signInAttempts(meta.ip, account, device.byCookie?.id ?? null);
    return SignInAttempt.reserved(services, tenantId, meta, await reserveAttempts(services.db.unscoped(), attempts, services.clock.now()));
  }

  /** An attempt whose reservations were made by the caller (in the same statement as its lookup). */
  static reserved(services: Services, tenantId: string, meta: RequestMeta, reservations: Reservation[]): SignInAttempt {
    return new SignInAttempt(services, tenantId, meta, reservations);
  }

  /** Journals the failure (and a lock it caused) and returns the error the client gets. */
  async fail(user: { id: string } | null, details: Record<string, unknown>) {
    const locks = this.reservations.filter((r) => r.locksOnFailure);
    const origin: AuditOrigin = { actorType: user ? 'user' : 'anonymous', actorId: user?.id ?? null, sessionId: null, ip: this.meta.ip, userAgent: this.meta.userAgent };
    await inTenantTransaction(this.services, this.tenantId, origin, async ({ journal }) => {
      const target = user ? { type: 'user', id: user.id } : null;
      await journal.record({ action: 'session.sign_in_failed', outcome: 'failure', target, details });
      for (const lock of locks) {
        await journal.record({
          action: 'session.locked_out',
          outcome: 'denied',
          target,
          details: { scope: lock.rule === ADDRESS_RULE ? 'address' : 'account', lockSeconds: lock.rule.lockSeconds, email: details.email },
        });
      }
    });
    return clientError(ErrorCode.INVALID_CREDENTIALS);
  }

  async succeed(): Promise<void> {
    const [address, account] = this.reservations;
    await releaseAttempts(this.services.db, account, address);
  }
}

/** Opens the session of a fully verified sign-in, with its device, in one transaction. */
export async function completeSignIn(
  services: Services,
  meta: RequestMeta,
  args: {
    user: UserView;
    tenant: TenantView;
    device: Recognition;
    authMethod: 'password' | 'password+totp';
    /** The EntityManager holding entities created for this sign-in (sign-up, invitation), if any. */
    em?: EntityManager;
    extra?: (work: Work) => Promise<void>;
  },
): Promise<IssuedSession & { deviceToken: string | null }> {
  const { user, tenant } = args;
  const now = services.clock.now();
  const origin: AuditOrigin = { actorType: 'user', actorId: user.id, sessionId: null, ip: meta.ip, userAgent: meta.userAgent };
  return inTenantTransaction(services, tenant.id, origin, async (work) => {
    await args.extra?.(work);
    const issued = await openSession(work, { tenant, user, authMethod: args.authMethod, meta, now });
    const deviceToken = await rememberDevice(work, { tenantId: tenant.id, userId: user.id }, meta, args.device, now);
    return { ...issued, deviceToken };
  }, args.em ?? services.db.forTenant(tenant.id));
}
