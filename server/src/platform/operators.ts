import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SYSTEM_ORIGIN } from '../audit/journal.ts';
import { failedPrecondition, notFound } from '../errors.ts';
import { newTotpSecret, totpEnrollment } from '../mfa/totp.ts';
import type { Services } from '../services.ts';
import { newSecret } from '../tokens.ts';
import { fields, parseInput } from '../validation.ts';
import { OperatorSlot, PlatformOperator } from './operator.entity.ts';
import { type OperatorServices, type OperatorWork, asOperatorRole } from './operator-work.ts';

const NewOperatorSchema = z.object({
  email: fields.email,
  displayName: z.string().trim().min(1, 'Enter a name.').max(100, 'Use at most 100 characters.'),
});

export interface CreatedOperator {
  id: string;
  slot: number;
  email: string;
  /** Shown once, on the server's console, to whoever holds the server. */
  password: string;
  totp: { secret: string; uri: string };
  /** A second operator waits for the first's approval before they can sign in. */
  pending: boolean;
}

/** The database's refusal of a third operator: no free seat in operator_slot. */
export class NoFreeSeat extends Error {}

/**
 * Creates an operator, from the server's command line only (npm run operator:create): the first is
 * approved by holding the server, a second waits for the first's approval. The password and the TOTP
 * secret are generated, both mandatory; the seat comes from operator_slot, whose two rows are the cap:
 * when both are taken the insert names seat 3, which the database refuses.
 */
export async function createOperator(services: OperatorServices & Pick<Services, 'hasher' | 'keys'>, input: unknown): Promise<CreatedOperator> {
  const { email, displayName } = parseInput(NewOperatorSchema, input);
  const password = newSecret().slice(0, 24);
  const secret = newTotpSecret();
  const passwordHash = await services.hasher.hash(password);
  try {
    return await asOperatorRole(services, SYSTEM_ORIGIN, null, async ({ em, journal, now }) => {
      const taken = new Set((await em.find(PlatformOperator, {}, { fields: ['slot'] })).map((o) => o.slot.slot));
      const seats = (await em.find(OperatorSlot, {}, { orderBy: { slot: 'asc' } })).map((s) => s.slot);
      const slot = seats.find((seat) => !taken.has(seat)) ?? Math.max(2, ...seats) + 1;
      const active = await em.count(PlatformOperator, { approvedAt: { $ne: null }, disabledAt: null });
      const id = randomUUID();
      await em.insert(PlatformOperator, {
        id, slot, email, displayName, passwordHash, totpSecretEnc: services.keys.encrypt(secret), totpLastStep: null,
        createdAt: now, approvedAt: active === 0 ? now : null, approvedBy: null, disabledAt: null,
      });
      await journal.record({ action: 'operator.created', target: { type: 'operator', id }, details: { email, slot, pending: active > 0 } });
      const { uri } = await totpEnrollment(secret, 'Vigil operators', email);
      return { id, slot, email, password, totp: { secret, uri }, pending: active > 0 };
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '23503' || code === '23514') throw new NoFreeSeat('Vigil has its two operators already: the database (operator_slot) holds no third seat.');
    throw error;
  }
}

/** Lowering the cap refused: the seat is held (disable and remove its operator first), or a raise was asked. */
export class SeatsNotLowered extends Error {}

/**
 * The cap, configurable downward only: seats above `seats` are removed from operator_slot, which vigil_ops may
 * delete from but never insert into (only a migration could add a seat back, and its CHECK stops at two). A
 * seat an operator holds stays: the foreign key refuses, and so does this, first, with a sentence.
 */
export async function lowerOperatorSeats(services: OperatorServices, seats: number): Promise<number[]> {
  if (!Number.isInteger(seats) || seats < 1 || seats > 2) throw new SeatsNotLowered('Vigil has one or two operator seats: ask for 1.');
  return asOperatorRole(services, SYSTEM_ORIGIN, null, async ({ em, journal }) => {
    const current = await em.count(OperatorSlot, {});
    if (seats > current) throw new SeatsNotLowered(`The cap is configurable downward only: Vigil has ${current} seat(s).`);
    const removed = (await em.find(OperatorSlot, { slot: { $gt: seats } })).map((s) => s.slot);
    const holders = await em.find(PlatformOperator, { slot: { $in: removed } }, { fields: ['email'] });
    if (holders.length) throw new SeatsNotLowered(`Seat ${removed.join(', ')} is held by ${holders.map((h) => h.email).join(', ')}: that seat stays.`);
    if (!removed.length) return [];
    await em.nativeDelete(OperatorSlot, { slot: { $in: removed } });
    await journal.record({ action: 'operator.seats_lowered', details: { seats, removed } });
    return removed;
  });
}

/** The other operator lets a pending one in (with a fresh proof, see the field); never oneself, never twice. */
export async function approveOperator(work: OperatorWork, operatorId: string): Promise<PlatformOperator> {
  const approver = work.operator!.operator;
  const pending = await work.em.findOne(PlatformOperator, operatorId);
  if (!pending) throw notFound();
  if (pending.id === approver.id) throw failedPrecondition('An operator cannot approve themselves.');
  const approved = await work.em.nativeUpdate(PlatformOperator, { id: operatorId, approvedAt: null, disabledAt: null }, { approvedAt: work.now, approvedBy: approver.id });
  if (approved !== 1) throw failedPrecondition('This operator is not waiting for approval.');
  await work.journal.record({ action: 'operator.approved', target: { type: 'operator', id: operatorId }, details: { email: pending.email } });
  return work.em.findOneOrFail(PlatformOperator, operatorId, { refresh: true });
}
