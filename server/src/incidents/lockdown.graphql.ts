import { builder, enumOf, sensitive } from '../builder.ts';
import { AuditEventRef } from '../audit/audit.graphql.ts';
import { asViewer } from '../unit-of-work.ts';
import { type EndedSession, type IncidentReport, LOCKDOWN_SCOPES, lockDown } from './lockdown.ts';

const ScopeEnum = enumOf('LockdownScope', LOCKDOWN_SCOPES, 'SELF: your own account; USER: an employee (users.manage); TENANT: the whole company (the owner).');

const EndedSessionRef = builder.objectRef<EndedSession>('EndedSession').implement({
  authScopes: { session: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    userId: t.exposeID('userId'),
    userAgent: t.exposeString('userAgent', { nullable: true, description: 'The device, as its browser or app named itself.' }),
    ip: t.exposeString('ip', { nullable: true }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime' }),
  }),
});

const IncidentReportRef = builder.objectRef<IncidentReport>('IncidentReport').implement({
  description: 'What a lockdown ended, and what to look at next.',
  authScopes: { session: true },
  fields: (t) => ({
    scope: t.field({ type: ScopeEnum, resolve: (r) => r.scope }),
    userIds: t.idList({ resolve: (r) => r.userIds }),
    sessionsEnded: t.field({ type: [EndedSessionRef], resolve: (r) => r.sessionsEnded }),
    keysRevoked: t.exposeInt('keysRevoked'),
    resetsVoided: t.exposeInt('resetsVoided'),
    signIns: t.field({ type: [AuditEventRef], description: 'The last 30 days of sign-ins of the people in scope, newest first.', resolve: (r) => r.signIns }),
    journalFromSeq: t.int({ resolve: (r) => r.journalFromSeq }),
    journalToSeq: t.int({ resolve: (r) => r.journalToSeq }),
  }),
});

const LockdownInput = builder.inputType('LockdownInput', {
  fields: (t) => ({
    scope: t.field({ type: ScopeEnum, required: true }),
    userId: t.id({ description: 'For USER: the employee.' }),
    keepCurrentSession: t.boolean({ defaultValue: false, description: 'Keep the session making this request (to go on investigating).' }),
    reason: t.string({ required: true }),
  }),
});

builder.mutationField('lockDown', (t) =>
  t.field({
    type: IncidentReportRef,
    description:
      'Ends every session in scope, revokes its API keys without grace, voids reset tokens and requires a new password at the next sign-in, in one transaction. SELF and TENANT need a fresh proof (stepUp).',
    authScopes: (_root, { input }) => (input.scope === 'user' ? { permission: 'users.manage' } : input.scope === 'tenant' ? sensitive({ permission: 'tenant.settings' }) : sensitive({ session: true })),
    args: { input: t.arg({ type: LockdownInput, required: true }) },
    resolve: (_root, { input }, ctx) => asViewer(ctx, lockDown, { ...input, userId: input.userId ? String(input.userId) : null }),
  }),
);
