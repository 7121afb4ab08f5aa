/**
 * The dependency rules `npm run lint` checks (see docs/ARCHITECTURE.md): no cycles; the transport stays in
 * http/; the database layer knows no domain; the dashboard knows nothing of the server.
 */
const DOMAINS = '(tenants|users|sessions|mfa|access|api-keys|audit|jobs|platform|critical-ops|incidents|notifications|support|idempotency|backups|metrics|alerts|webhooks|syslog)';

export default {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'A cycle means two modules are one idea split in two, or one knows too much.', from: {}, to: { circular: true } },
    {
      name: 'transport-stays-in-http',
      severity: 'error',
      comment: 'Resolvers and rules import nothing from http/; app.ts, the composition root, wires it.',
      from: { path: '^server/src/', pathNot: ['^server/src/http/', '^server/src/app\\.ts$'] },
      to: { path: '^server/src/http/' },
    },
    {
      name: 'db-knows-no-domain',
      severity: 'error',
      comment: 'db/ is the ORM, connections, tenancy and migrations: no domain folder.',
      from: { path: '^server/src/db/' },
      to: { path: `^server/src/${DOMAINS}/` },
    },
    { name: 'dashboard-knows-no-server', severity: 'error', from: { path: '^dashboard/' }, to: { path: '^server/' } },
    {
      name: 'verifier-stands-alone',
      severity: 'error',
      comment: 'A company runs verifier/ without Vigil: node:crypto and canonicalize, nothing of the server.',
      from: { path: '^verifier/' },
      to: { path: '^(server|dashboard|scripts)/' },
    },
    { name: 'no-orphans-in-server', severity: 'warn', from: { orphan: true, path: '^server/src/', pathNot: ['\\.d\\.ts$', '^server/src/main\\.ts$'] }, to: {} },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', 'dashboard/dist'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.svelte'] },
  },
};
