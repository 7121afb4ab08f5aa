import { Migration20261123122720_initial } from './Migration20261123122720_initial.ts';
import { Migration20261123235959_security } from './Migration20261123235959_security.ts';
import { Migration20261124000000_password_reset } from './Migration20261124000000_password_reset.ts';
import { Migration20261125000000_open_session } from './Migration20261125000000_open_session.ts';
import { Migration20261201000000_locator_role } from './Migration20261201000000_locator_role.ts';
import { Migration20261201000100_readiness } from './Migration20261201000100_readiness.ts';
import { Migration20261201224659_access_change } from './Migration20261201224659_access_change.ts';
import { Migration20261202000000_function_files } from './Migration20261202000000_function_files.ts';
import { Migration20261202003319_tenant_references } from './Migration20261202003319_tenant_references.ts';
import { Migration20261202010000_one_append_path } from './Migration20261202010000_one_append_path.ts';
import { Migration20261202071040_step_up } from './Migration20261202071040_step_up.ts';
import { Migration20261202072707_operators } from './Migration20261202072707_operators.ts';
import { Migration20261202074708_critical_operations } from './Migration20261202074708_critical_operations.ts';
import { Migration20261202080529_lockdown } from './Migration20261202080529_lockdown.ts';
import { Migration20261202143000_purge } from './Migration20261202143000_purge.ts';
import { Migration20261202144137_notifications } from './Migration20261202144137_notifications.ts';
import { Migration20261202144333_support } from './Migration20261202144333_support.ts';
import { Migration20261202150000_operator_seats } from './Migration20261202150000_operator_seats.ts';
import { Migration20261202160000_rollback_detection } from './Migration20261202160000_rollback_detection.ts';
import { Migration20261202160317_idempotency } from './Migration20261202160317_idempotency.ts';
import { Migration20261203150000_sign_in_delay } from './Migration20261203150000_sign_in_delay.ts';
import { Migration20261204010000_audit_evidence } from './Migration20261204010000_audit_evidence.ts';
import { Migration20261204014759_webhooks } from './Migration20261204014759_webhooks.ts';
import { Migration20261204021350_retention } from './Migration20261204021350_retention.ts';
import { Migration20261204030121_email_change } from './Migration20261204030121_email_change.ts';

/** Committed migrations, applied in this order on start. */
export const migrationsList = [Migration20261123122720_initial, Migration20261123235959_security, Migration20261124000000_password_reset, Migration20261125000000_open_session, Migration20261201000000_locator_role, Migration20261201000100_readiness, Migration20261201224659_access_change, Migration20261202000000_function_files, Migration20261202003319_tenant_references, Migration20261202010000_one_append_path, Migration20261202071040_step_up, Migration20261202072707_operators, Migration20261202074708_critical_operations, Migration20261202080529_lockdown, Migration20261202143000_purge, Migration20261202144137_notifications, Migration20261202144333_support, Migration20261202150000_operator_seats, Migration20261202160000_rollback_detection, Migration20261202160317_idempotency, Migration20261203150000_sign_in_delay, Migration20261204010000_audit_evidence, Migration20261204014759_webhooks, Migration20261204021350_retention, Migration20261204030121_email_change];
