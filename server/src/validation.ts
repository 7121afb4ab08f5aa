import { z } from 'zod';
import { type FieldProblem, badInput } from './errors.ts';

/** Parses client input, or throws BAD_USER_INPUT naming each field and what is wrong with it. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = checkInput(schema, input);
  if ('data' in result) return result.data;
  throw badInput(result.problems);
}

/** The parsed input, or what is wrong with it, for a caller that must act on a refusal (journal it) first. */
export function checkInput<T>(schema: z.ZodType<T>, input: unknown): { data: T } | { problems: FieldProblem[] } {
  const result = schema.safeParse(input);
  if (result.success) return { data: result.data };
  return { problems: result.error.issues.map((issue) => ({ field: issue.path.join('.') || 'input', message: issue.message })) };
}

/**
 * What every string a client sends must be: well-formed Unicode (a lone UTF-16 surrogate cannot be stored,
 * hashed or shown) without NUL or other control characters (log injection, spoofed lines, and PostgreSQL
 * refuses NUL in text). Checked for every argument by the well-formed-input plugin; null when fine.
 */
export function textProblem(value: string): string | null {
  if (!value.isWellFormed()) return 'Use well-formed Unicode text (this has a lone surrogate).';
  if (/\p{Cc}/u.test(value)) return 'Use printable characters only (no NUL or control characters).';
  return null;
}

/** Names shown to people must read as they are: no bidirectional overrides or isolates (Trojan Source). */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/u;
const displayable = (value: string) => textProblem(value) === null && !BIDI_CONTROLS.test(value);
const DISPLAYABLE = 'Use printable characters only, without direction overrides.';

export const fields = {
  email: z
    .string()
    .trim()
    .max(254, 'Use at most 254 characters.')
    .pipe(z.email('Enter a valid email address.'))
    .transform((email) => email.toLowerCase()),
  displayName: z.string().trim().min(1, 'Enter a name.').max(100, 'Use at most 100 characters.').refine(displayable, DISPLAYABLE),
  tenantName: z.string().trim().min(1, 'Enter a company name.').max(200, 'Use at most 200 characters.').refine(displayable, DISPLAYABLE),
  tenantSlug: z
    .string()
    .trim()
    .toLowerCase()
    .min(3, 'Use at least 3 characters.')
    .max(63, 'Use at most 63 characters.')
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'Use lowercase letters, digits and single hyphens.'),
  /** Checked against the password policy separately, so that sign-in never reveals the policy. */
  password: z.string().min(1, 'Enter a password.').max(1024, 'Use at most 256 characters.'),
};

/** Free text a person reads later (a reason): printable, no direction overrides, within bounds. */
export function displayableText(min: number, max: number, tooShort = `Use at least ${min} characters.`) {
  return z.string().trim().min(min, tooShort).max(max, `Use at most ${max} characters.`).refine(displayable, DISPLAYABLE);
}

/** GraphQL gives omitted optional input fields as null; in a partial update that means "leave as is". */
export function withoutNulls<T extends Record<string, unknown>>(input: T): Partial<{ [K in keyof T]: NonNullable<T[K]> }> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null && value !== undefined)) as Partial<{
    [K in keyof T]: NonNullable<T[K]>;
  }>;
}
