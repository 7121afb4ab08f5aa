/**
 * npm run operator:create -- --email <email> --name <display name> [--secrets-file <new file>]
 * Creates a platform operator from the server's command line, with the server's own configuration
 * (DATABASE_URL, VIGIL_SECRETS_DIR): whoever holds the server holds this. The first operator can sign in at
 * once; a second waits for the first's approval in the console; the database refuses a third. Shows the
 * generated password and the TOTP secret once, on the terminal, or writes them to a new file readable by its
 * owner only (--secrets-file): never to a captured stdout (a CI log, docker logs, the system journal).
 * Exit code: 0 created, 1 refused (no free seat, email taken), 2 bad usage or configuration.
 * With the embedded database, stop Vigil first: its data directory has one user at a time (db/embedded-lock.ts).
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
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
  const { values } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string' }, 'secrets-file': { type: 'string' } } });
  if (!values.email || !values.name) {
    console.error('Usage: npm run operator:create -- --email <email> --name <display name> [--secrets-file <new file>]');
    return 2;
  }
  const secretsFile = values['secrets-file'];
  if (!secretsFile && !process.stdout.isTTY) {
    console.error('The output is not a terminal, where the password would stay in a log: pass --secrets-file <new file> to receive it there.');
    return 2;
  }
  // Opened first (wx: never over an existing file; 0600: its owner only): an operator whose password could not be handed over is never made.
  let secretsFd: number | null = null;
  try {
    secretsFd = secretsFile ? openSync(secretsFile, 'wx', 0o600) : null;
  } catch (error) {
    console.error(`${secretsFile} cannot be created (${(error as { code?: string }).code}): name a new file.`);
    return 2;
  }
  let handedOver = false;
  const config = loadConfig();
  const log = createLogger('warn');
  const db = await openDatabase(databaseOptionsFrom(config));
  const bus = createEventBus({ log, redisUrl: config.redisUrl, redisCaFile: config.redisCaFile, channelPrefix: config.redisChannelPrefix });
  try {
    const hasher = new PasswordHasher(config.passwordHash, 1);
    const created = await createOperator({ db, clock: systemClock, bus, hasher, keys: loadServerKeys(config) }, { email: values.email, displayName: values.name });
    console.log(`Operator ${created.email} created in seat ${created.slot}.`);
    console.log(created.pending ? 'They can sign in once the other operator approves them in the console (/ops/).' : 'They can sign in at /ops/ now.');
    const secrets = [
      'Password (shown this once; keep it in a password manager):',
      `  ${created.password}`,
      '',
      'Confirmation codes are mandatory. Add this to an authenticator app:',
      `  secret: ${created.totp.secret}`,
      `  uri:    ${created.totp.uri}`,
      '',
    ].join('\n');
    if (secretsFd !== null) {
      writeSync(secretsFd, secrets);
      console.log(`The password and the TOTP secret are in ${secretsFile} (readable by you only): move them to a password manager and delete it.`);
    } else {
      console.log(`\n${secrets}`);
      console.log(await QRCode.toString(created.totp.uri, { type: 'terminal', small: true }));
    }
    handedOver = true;
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
    // A driver's error names the statement and its values (the hashes among them): the code is enough here.
    console.error(`The operator could not be created (${(error as { code?: string }).code ?? (error as Error).name}).`);
    return 1;
  } finally {
    if (secretsFd !== null) {
      closeSync(secretsFd);
      if (!handedOver) unlinkSync(secretsFile!);
    }
    await bus.close();
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError || (error as { extensions?: unknown }).extensions ? (error as Error).message : `Vigil could not start the command (${(error as Error).name}).`);
    process.exit(2);
  },
);
