import type { EntityManager } from '@mikro-orm/postgresql';
import { type RequestMeta, signInOrigin } from '../context.ts';
import { ErrorCode, clientError } from '../errors.ts';
import { withQuestionMarks } from '../db/statements.ts';
import type { Services } from '../services.ts';
import { type Work, inTenantTransaction, publishCommitted } from '../unit-of-work.ts';
import type { TenantView, UserView } from '../access/viewer.ts';
import type { Recognition } from './known-devices.ts';
import { type OpenedRow, type OpenedSession, SessionOpening } from './open-session.ts';
import { ADDRESS_RULE, type Reservation, releaseArgument, releaseAttempts, reserveAttempts, signInAttempts } from './sign-in-throttle.ts';

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
    await inTenantTransaction(this.services, { tenantId: this.tenantId, origin: signInOrigin(this.meta, user?.id ?? null), viewer: null }, async ({ journal }) => {
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

  /** A success forgives: see releaseAttempts. */
  async succeed(): Promise<void> {
    await releaseAttempts(this.services.db, this.releaseArgument());
  }

  /** The release as vigil_release_sign_in (and vigil_open_session) take it. */
  releaseArgument(): string {
    const [address, account] = this.reservations;
    return releaseArgument(account, address);
  }
}

/**
 * Opens the session of a fully verified sign-in, with its device and journal entries, in one statement
 * (vigil_open_session) that also releases the attempt, if one is given: its success and its session
 * commit together. With other work (`extra`, or entities in `em`), inside that work's transaction.
 */
export async function completeSignIn(
  services: Services,
  meta: RequestMeta,
  args: {
    user: UserView;
    tenant: TenantView;
    device: Recognition;
    authMethod: 'password' | 'password+totp';
    attempt?: SignInAttempt;
    /** The EntityManager holding entities created for this sign-in (sign-up, invitation), if any. */
    em?: EntityManager;
    extra?: (work: Work) => Promise<void>;
  },
): Promise<OpenedSession> {
  const { user, tenant } = args;
  // Every way in (password, code, invitation, reset) opens its session here: a deleted company's none.
  if (tenant.disabledAt) throw clientError(ErrorCode.FORBIDDEN, 'This company was deleted: nobody can sign in to it any more.');
  const opening = new SessionOpening({ ...args, meta, now: services.clock.now() });
  const statementArguments = [...opening.arguments(), args.attempt?.releaseArgument() ?? null];
  if (!args.extra && !args.em) {
    const [row] = await services.db.prepared<OpenedRow>('vigil_open_session', OPEN_SESSION, statementArguments);
    // One statement, its own transaction: committed when it returns.
    publishCommitted(services, { events: opening.recorded(row) });
    return opening.result(row);
  }
  return inTenantTransaction(services, { tenantId: tenant.id, origin: signInOrigin(meta, user.id), viewer: null, em: args.em }, async (work) => {
    await args.extra?.(work);
    const [row] = await work.em.execute<OpenedRow[]>(OPEN_SESSION_IN_TRANSACTION, statementArguments);
    for (const event of opening.recorded(row)) work.journal.adopt(event);
    return opening.result(row);
  });
}

const OPEN_SESSION = 'select device_id, appended from vigil_open_session($1, $2::jsonb, $3::jsonb, $4::jsonb, $5::jsonb)';
const OPEN_SESSION_IN_TRANSACTION = withQuestionMarks(OPEN_SESSION);
