import { VIEWER_DEPENDENT, builder } from '../builder.ts';
import type { SessionView } from '../access/viewer.ts';

export const SessionRef = builder.objectRef<SessionView>('Session').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'The absolute end of the session, whatever the activity.' }),
    ip: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    authMethod: t.exposeString('authMethod'),
    active: t.boolean({ resolve: (s) => s.endedAt === null }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    endReason: t.exposeString('endReason', { nullable: true }),
    current: t.boolean({
      description: 'True for the session making this request.',
      extensions: VIEWER_DEPENDENT,
      resolve: (s, _args, ctx) => ctx.viewer?.kind === 'session' && ctx.viewer.session.id === s.id,
    }),
  }),
});
