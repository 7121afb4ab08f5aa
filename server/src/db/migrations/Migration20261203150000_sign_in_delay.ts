import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { asLocatorMember } from './locator-ownership.ts';

/**
 * vigil_reserve_sign_in computed the progressive delay as an int before capping it: from 31 failures past
 * the rule's delayFrom (61 from one address) 2^n overflowed, and every sign-in from there failed with an
 * internal error instead of RATE_LIMITED. The exponent is capped first now.
 */
export class Migration20261203150000_sign_in_delay extends Migration {
  override name = 'Migration20261203150000_sign_in_delay';

  override up(): void {
    for (const statement of asLocatorMember([functionDefinition('vigil_reserve_sign_in')])) this.addSql(statement);
  }

  override down(): void {
    // The capped delay is the same delay wherever the old one did not overflow: nothing to undo.
  }
}
