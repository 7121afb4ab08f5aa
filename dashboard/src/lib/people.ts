import { gql } from './api.ts';
import { can } from './session.svelte.ts';
import type { Person } from './types.ts';

/** The employees, for choosing an actor in filters; empty without users.read (the filter then takes an ID). */
export async function loadPeople(): Promise<Person[]> {
  if (!can('users.read')) return [];
  const data = await gql<{ users: Person[] }>(`query People { users { id email displayName } }`);
  return data.users;
}
