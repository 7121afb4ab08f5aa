import { Migration } from '@mikro-orm/migrations';
import { FUNCTION_NAMES, functionDefinition } from '../functions.ts';
import { asLocatorMember } from './locator-ownership.ts';

/**
 * From here on each function's current definition lives in db/functions/<name>.sql: this loads them all
 * (the same definitions the earlier migrations made, so nothing changes in a migrated database; owners
 * and grants survive `create or replace`).
 */
export class Migration20261202000000_function_files extends Migration {
  override name = 'Migration20261202000000_function_files';

  override up(): void {
    // Replacing a function takes being its owner: the locators belong to vigil_locator.
    for (const statement of asLocatorMember(FUNCTION_NAMES.map(functionDefinition))) this.addSql(statement);
  }
}
