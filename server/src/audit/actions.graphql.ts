import { builder } from '../builder.ts';
import { type ActionMeaning, type AuditAction, auditActionCatalogue } from './actions.ts';

type CatalogueEntry = { action: AuditAction } & ActionMeaning;

const AuditActionRef = builder.objectRef<CatalogueEntry>('AuditActionInfo').implement({
  description: 'One action of the audit vocabulary and what it means (server/src/audit/actions.ts).',
  authScopes: { authenticated: true },
  fields: (t) => ({
    action: t.exposeString('action'),
    description: t.exposeString('description'),
    alert: t.boolean({ description: 'Highlighted wherever events are listed, and in the "alerts only" filter.', resolve: (a) => a.alert === true }),
    attention: t.string({ nullable: true, description: "The overview's count it is part of, if any.", resolve: (a) => a.attention ?? null }),
    sessionEvent: t.string({ nullable: true, description: 'Its kind in sessionEvents, if it is one.', resolve: (a) => a.sessionEvent ?? null }),
  }),
});

builder.queryField('auditActions', (t) =>
  t.field({
    type: [AuditActionRef],
    description: 'Every action Vigil journals, with what it means: what clients build their filters and highlights from.',
    authScopes: { authenticated: true },
    resolve: () => auditActionCatalogue().filter((entry) => !entry.platformOnly),
  }),
);
