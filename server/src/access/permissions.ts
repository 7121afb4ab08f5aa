/** The fixed catalogue of permissions. Roles hold subsets of it; API keys hold subsets of their creator's. */
export const PERMISSIONS = {
  'audit.read': 'Read the action journal, watch it live and verify its hash chain.',
  'audit.export': 'Export the action journal as CSV or JSONL.',
  'sessions.read_all': "See every employee's sessions and subscribe to session events.",
  'sessions.revoke_all': "End any employee's sessions.",
  'users.read': 'See the list of employees, their roles and status.',
  'users.invite': 'Invite new employees.',
  'users.manage': "Change employees' roles, disable, enable and unlock them.",
  'roles.manage': 'Create, edit and delete custom roles.',
  'api_keys.manage_own': 'Create, rotate and revoke your own API keys.',
  'api_keys.manage_all': "See, rotate and revoke every employee's API keys.",
  'tenant.settings': 'Change the company settings: session lifetimes, API key policy, the security alert rules and the journal retention.',
  'company.critical_operations': "See the company's deletion or ownership transfer in progress, and cancel it.",
  'company.support_access': "See platform support's access to the company (grants, break-glass, each access) and revoke it.",
} as const;

export type Permission = keyof typeof PERMISSIONS;

export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value);
}

export const BUILT_IN_ROLES = {
  owner: {
    name: 'Owner',
    description: 'The account owner: every permission. Exactly one per company.',
    permissions: ALL_PERMISSIONS,
  },
  administrator: {
    name: 'Administrator',
    description: 'Manages employees, roles, sessions and API keys.',
    permissions: ALL_PERMISSIONS.filter((p) => p !== 'tenant.settings'),
  },
  security_officer: {
    name: 'Security officer',
    description: 'Watches the journal and ends suspicious sessions.',
    permissions: [
      'audit.read',
      'audit.export',
      'sessions.read_all',
      'sessions.revoke_all',
      'users.read',
      'api_keys.manage_own',
    ] satisfies Permission[],
  },
  employee: {
    name: 'Employee',
    description: 'Uses the CRM; manages only their own API keys.',
    permissions: ['api_keys.manage_own'] satisfies Permission[],
  },
} as const;

export type BuiltInRoleKey = keyof typeof BUILT_IN_ROLES;

export const OWNER_ROLE: BuiltInRoleKey = 'owner';

/**
 * What a role grants: the Owner's rights come from code, not from its row, so that every existing owner
 * holds a permission added to the catalogue later (the Owner has them all; nobody may edit it). Other
 * roles, built-in ones included, grant what is stored: their owner may have edited them.
 */
export function rolePermissions(role: { builtIn?: string | null; permissions: readonly string[] }): Permission[] {
  if (role.builtIn === OWNER_ROLE) return [...ALL_PERMISSIONS];
  return role.permissions.filter(isPermission);
}
