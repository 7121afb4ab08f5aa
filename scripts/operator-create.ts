/**
 * npm run operator:create -- --email <email> --name <display name>
 * Creates a platform operator from the server's command line, with the server's own configuration
 * (DATABASE_URL, VIGIL_SECRETS_DIR): whoever holds the server holds this. The first operator can sign in at
 * once; a second waits for the first's approval in the console; the database refuses a third. Prints the
 * generated password and the TOTP secret once: both are needed to sign in at /ops/.
 * Exit code: 0 created, 1 refused (no free seat, email taken), 2 bad usage or configuration.
 * With the embedded database, stop Vigil first: its data directory has one user at a time.
 */
import QRCode from 'qrcode';
import { parseArgs } from 'node:util';
import { ConfigError } from '../server/src/config-error.ts';
import { loadConfig } from '../server/src/config.ts';
import { databaseOptionsFrom, openDatabase } from '../server/src/db/database.ts';
import { createEventBus } from '../server/src/event-bus.ts';
import { createLogger } from '../server/src/logger.ts';
import { NoFreeSeat, createOperator } from '../server/src/platform/operators.ts';
import { systemClock } from '../server/src/clock.ts';
import { loadServerKeys } from '../server/src/server-keys.ts';
import { PasswordHasher } from '../server/src/users/password-hasher.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string' } } });
  if (!values.email || !values.name) {
    console.error('Usage: npm run operator:create -- --email <email> --name <display name>');
    return 2;
  }
  const config = loadConfig();
  const log = createLogger('warn');
  const db = await openDatabase(databaseOptionsFrom(config));
  const bus = createEventBus({ log, redisUrl: config.redisUrl, redisCaFile: config.redisCaFile, channelPrefix: config.redisChannelPrefix });
  try {
    const hasher = new PasswordHasher(config.passwordHash, 1);
    const created = await createOperator({ db, clock: systemClock, bus, hasher, keys: loadServerKeys(config.secretsDir) }, { email: values.email, displayName: values.name });
    console.log(`Operator ${created.email} created in seat ${created.slot}.`);
    console.log(created.pending ? 'They can sign in once the other operator approves them in the console (/ops/).' : 'They can sign in at /ops/ now.');
    console.log('\nPassword (shown this once; keep it in a password manager):');
    console.log(`  ${created.password}`);
    console.log('\nConfirmation codes are mandatory. Add this to an authenticator app:');
    console.log(`  secret: ${created.totp.secret}`);
    console.log(`  uri:    ${created.totp.uri}`);
    console.log(await QRCode.toString(created.totp.uri, { type: 'terminal', small: true }));
    return 0;
  } catch (error) {
    if (error instanceof NoFreeSeat) {
      console.error(error.message);
      return 1;
    }
    if ((error as { code?: string }).code === '23505') {
      console.error(`An operator with the email ${values.email} exists already.`);
      return 1;
    }
    throw error;
  } finally {
    await bus.close();
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError || (error as { extensions?: unknown }).extensions ? (error as Error).message : error);
    process.exit(2);
  },
);
