import { Migration20261123122720_initial } from './Migration20261123122720_initial.ts';
import { Migration20261123235959_security } from './Migration20261123235959_security.ts';

/** Committed migrations, applied in this order on start. */
export const migrationsList = [Migration20261123122720_initial, Migration20261123235959_security];
