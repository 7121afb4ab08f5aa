import { Migration } from '@mikro-orm/migrations';

export class Migration20261202080529_lockdown extends Migration {

  override name = 'Migration20261202080529_lockdown';

  override up(): void | Promise<void> {
    this.addSql(`alter table "app_user" add "password_change_required" boolean not null default false;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "app_user" drop column "password_change_required";`);
  }

}
