import { z } from 'zod';

/**
 * Per-tenant session lifetimes. Defaults follow OWASP for office applications; the bounds keep an
 * owner inside NIST 800-63B AAL2 (inactivity ≤ 1 h SHOULD, overall ≤ 24 h SHOULD) and keep rotation
 * frequent enough that a stolen token is soon useless.
 */
export const SESSION_POLICY_DEFAULTS = {
  idleTimeoutSeconds: 30 * 60,
  absoluteTimeoutSeconds: 12 * 60 * 60,
  rotationIntervalSeconds: 5 * 60,
  rotationGraceSeconds: 30,
} as const;

export const SessionPolicySchema = z
  .object({
    idleTimeoutSeconds: z.number().int().min(5 * 60).max(60 * 60),
    absoluteTimeoutSeconds: z.number().int().min(60 * 60).max(24 * 60 * 60),
    rotationIntervalSeconds: z.number().int().min(60).max(60 * 60),
    rotationGraceSeconds: z.number().int().min(5).max(120),
  })
  .refine((p) => p.idleTimeoutSeconds <= p.absoluteTimeoutSeconds, {
    path: ['idleTimeoutSeconds'],
    message: 'The idle timeout cannot exceed the absolute timeout.',
  })
  .refine((p) => p.rotationGraceSeconds < p.rotationIntervalSeconds, {
    path: ['rotationGraceSeconds'],
    message: 'The grace window must be shorter than the rotation interval.',
  });

export type SessionPolicy = z.infer<typeof SessionPolicySchema>;
