/**
 * Platform support's access to a company, in words, for both apps: the companies' API spells scopes as
 * enum values (`JOURNAL`), the operators' as stored (`journal`); justifications are stored in lower case.
 */

/** What a grant lets support read (SupportScope), as the owner chooses it. */
export const SUPPORT_SCOPES = [
  { value: 'JOURNAL', label: 'Journal' },
  { value: 'PEOPLE', label: 'People (users and sessions, metadata)' },
  { value: 'CRITICAL_OPERATIONS', label: 'Critical operations' },
] as const;

/** Why both operators may open a company without its grant: the server's fixed list (BreakGlassJustification). */
export const BREAK_GLASS_JUSTIFICATIONS = [
  { value: 'ACTIVE_SECURITY_INCIDENT', label: 'An active security incident' },
  { value: 'DATA_LOSS_RECOVERY', label: 'Recovering lost data' },
  { value: 'LEGAL_ORDER', label: 'A legal order' },
  { value: 'OWNER_UNREACHABLE_OUTAGE', label: 'An outage while the owner cannot be reached' },
] as const;

/** A grant lasts 8 hours unless the owner says otherwise, 72 at most (GRANT_HOURS on the server). */
export const GRANT_HOURS = { default: 8, max: 72 } as const;

const wordsFor = (list: ReadonlyArray<{ value: string; label: string }>) => (value: string | null | undefined) =>
  list.find((item) => item.value === value?.toUpperCase())?.label ?? value ?? '—';

export const describeScope = wordsFor(SUPPORT_SCOPES);
export const describeJustification = wordsFor(BREAK_GLASS_JUSTIFICATIONS);
export const describeScopes = (scopes: readonly string[]) => scopes.map(describeScope).join(', ');

/** `break_glass` or `BREAK_GLASS`: a break-glass of both operators; anything else the owner's grant. */
export const isBreakGlass = (kind: string) => kind.toLowerCase() === 'break_glass';
export const describeGrantKind = (kind: string) => (isBreakGlass(kind) ? 'Break-glass' : 'Grant');
