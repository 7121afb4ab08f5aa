import { z } from 'zod';
import { badInput } from './errors.ts';

/** Parses client input, or throws BAD_USER_INPUT naming each field and what is wrong with it. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw badInput(result.error.issues.map((issue) => ({ field: issue.path.join('.') || 'input', message: issue.message })));
}

// Control characters have no place in names shown to security staff (log injection, spoofed lines).
const printable = (value: string) => !/\p{Cc}/u.test(value);

export const fields = {
  email: z
    .string()
    .trim()
    .max(254, 'Use at most 254 characters.')
    .pipe(z.email('Enter a valid email address.'))
    .transform((email) => email.toLowerCase()),
  displayName: z.string().trim().min(1, 'Enter a name.').max(100, 'Use at most 100 characters.').refine(printable, 'Use printable characters only.'),
  tenantName: z.string().trim().min(1, 'Enter a company name.').max(200, 'Use at most 200 characters.').refine(printable, 'Use printable characters only.'),
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

/** GraphQL gives omitted optional input fields as null; in a partial update that means "leave as is". */
export function withoutNulls<T extends Record<string, unknown>>(input: T): Partial<{ [K in keyof T]: NonNullable<T[K]> }> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null && value !== undefined)) as Partial<{
    [K in keyof T]: NonNullable<T[K]>;
  }>;
}
