/**
 * npm run keys:backup
 * Says how this installation's keys are kept apart from its backups: where each key is (files, ids, never
 * a key), what each backup and the external bucket hold, and how to keep an escrow copy of the keys.
 * Exit code: 0 kept apart, 1 a key travels with a backup or is readable by others, 2 bad configuration.
 */
import { keyCustody } from '../server/src/backups/key-custody.ts';
import { loadConfig } from '../server/src/config.ts';
import { loadServerKeys } from '../server/src/server-keys.ts';
import { exitWith } from './exit-with.ts';

async function main(): Promise<number> {
  const config = loadConfig();
  const custody = keyCustody(config, loadServerKeys(config));
  console.log('Keys (the same on every instance; mount them as secrets):');
  for (const line of custody.keys) console.log(`  ${line}`);
  console.log('What the backups hold:');
  for (const line of custody.backups) console.log(`  ${line}`);
  console.log(`Keep an escrow copy of the key files apart from both: never in the backup bucket, never in a backup,
  e.g. sealed to an offline recipient: age -r <escrow public key> -o vigil-keys.age <the key files above>,
  kept by someone other than who can read the bucket. Without them a restored copy cannot decrypt TOTP
  secrets or the copies, and new checkpoints cannot be signed under the published key.`);
  if (!custody.problems.length) {
    console.log('OK: no key travels with a backup.');
    return 0;
  }
  console.log('PROBLEMS:');
  for (const problem of custody.problems) console.log(`  - ${problem}`);
  return 1;
}

exitWith(main());
