import type { Component } from 'svelte';
import Backups from './backups/Backups.svelte';
import PlatformJournal from './journal/PlatformJournal.svelte';
import Operators from './operators/Operators.svelte';
import Queue from './queue/Queue.svelte';
import SupportGrants from './support/SupportGrants.svelte';

export interface Screen {
  path: string;
  label: string;
  component: Component;
}

/** The console's screens under /ops/, in navigation order. */
export const SCREENS: Screen[] = [
  { path: '/ops/', label: 'Critical operations', component: Queue },
  { path: '/ops/support', label: 'Support grants', component: SupportGrants },
  { path: '/ops/operators', label: 'Operators', component: Operators },
  { path: '/ops/backups', label: 'Backups', component: Backups },
  { path: '/ops/journal', label: 'Platform journal', component: PlatformJournal },
];

/** /ops is /ops/. */
export const screenAt = (path: string): Screen | undefined => SCREENS.find((s) => s.path === (path === '/ops' ? '/ops/' : path));
