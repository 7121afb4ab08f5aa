import type { Component } from 'svelte';
import Account from './account/Account.svelte';
import ApiKeys from './api-keys/ApiKeys.svelte';
import Company from './company/Company.svelte';
import Feed from './feed/Feed.svelte';
import Integrations from './integrations/Integrations.svelte';
import Journal from './journal/Journal.svelte';
import Overview from './overview/Overview.svelte';
import People from './people/People.svelte';
import Sessions from './sessions/Sessions.svelte';

export interface Screen {
  path: string;
  label: string;
  /** Shown only to holders of this permission (of any of these). */
  permission: string | readonly string[] | null;
  component: Component;
}

/** The dashboard's screens, in navigation order. */
export const SCREENS: Screen[] = [
  { path: '/', label: 'Overview', permission: 'audit.read', component: Overview },
  { path: '/feed', label: 'Live feed', permission: 'audit.read', component: Feed },
  { path: '/journal', label: 'Journal', permission: 'audit.read', component: Journal },
  { path: '/sessions', label: 'Sessions', permission: null, component: Sessions },
  { path: '/people', label: 'Employees & roles', permission: 'users.read', component: People },
  { path: '/api-keys', label: 'API keys', permission: 'api_keys.manage_own', component: ApiKeys },
  { path: '/integrations', label: 'Integrations', permission: 'audit.export', component: Integrations },
  { path: '/company', label: 'Company', permission: ['company.critical_operations', 'company.support_access', 'tenant.settings', 'audit.read'], component: Company },
  { path: '/account', label: 'Account', permission: null, component: Account },
];
