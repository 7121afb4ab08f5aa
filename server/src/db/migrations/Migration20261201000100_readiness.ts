import { Migration } from '@mikro-orm/migrations';

const APP_ROLE = 'vigil_app';

/** /readyz compares the migrations applied with those this code needs, on the application's own connection. */
export class Migration20261201000100_readiness extends Migration {
  override name = 'Migration20261201000100_readiness';

  override up(): void {
    this.addSql(`grant select on mikro_orm_migrations to ${APP_ROLE};`);
  }

  override down(): void {
    this.addSql(`revoke select on mikro_orm_migrations from ${APP_ROLE};`);
  }
}
