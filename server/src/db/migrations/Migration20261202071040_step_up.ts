import { Migration } from '@mikro-orm/migrations';

export class Migration20261202071040_step_up extends Migration {

  override name = 'Migration20261202071040_step_up';

  override up(): void | Promise<void> {
    this.addSql(`alter table "session" add "stepped_up_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "session" drop column "stepped_up_at";`);
  }

}
