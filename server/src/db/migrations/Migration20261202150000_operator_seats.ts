import { Migration } from '@mikro-orm/migrations';

/**
 * The operators' cap is configurable downward only (issue 15): vigil_ops may remove a free seat from
 * operator_slot (npm run operator:seats), never add one; the CHECK keeps any seat a migration adds at 1 or 2.
 */
export class Migration20261202150000_operator_seats extends Migration {
  override name = 'Migration20261202150000_operator_seats';

  override up(): void {
    this.addSql('grant delete on operator_slot to vigil_ops;');
  }

  override down(): void {
    this.addSql('revoke delete on operator_slot from vigil_ops;');
  }
}
