import { Migration } from '@mikro-orm/migrations';

/** changeEmail (issue 18) ends the other sessions with a reason of its own. */

export class Migration20261204030121_email_change extends Migration {

  override name = 'Migration20261204030121_email_change';

  override up(): void | Promise<void> {
    this.addSql(`alter table "session" drop constraint "session_end_reason_check";`);
    this.addSql(`alter table "session" add constraint "session_end_reason_check" check ("end_reason" in ('signed_out', 'revoked', 'expired', 'token_reuse', 'password_changed', 'user_disabled', 'email_changed'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "session" drop constraint "session_end_reason_check";`);
    this.addSql(`alter table "session" add constraint "session_end_reason_check" check ("end_reason" in ('signed_out', 'revoked', 'expired', 'token_reuse', 'password_changed', 'user_disabled'));`);
  }

}
