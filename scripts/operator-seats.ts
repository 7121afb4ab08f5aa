/**
 * npm run operator:seats -- --seats 1
 * Lowers the platform operators' cap from the server's command line (the seeds: at most two people; a vendor
 * may want one). Downward only: a free seat is removed for good (only a migration could add it back); a seat
 * an operator holds stays. Journalled in the platform journal.
 * Exit code: 0 lowered (or nothing to lower), 1 refused, 2 bad usage or configuration.
 * With the embedded database, stop Vigil first: its data directory has one user at a time (db/embedded-lock.ts).
 */
import { parseArgs } from 'node:util';
import { systemClock } from '../server/src/clock.ts';
import { loadConfig } from '../server/src/config.ts';
import { databaseOptionsFrom, openDatabase } from '../server/src/db/database.ts';
import { createEventBus } from '../server/src/event-bus.ts';
import { createLogger } from '../server/src/logger.ts';
import { SeatsNotLowered, lowerOperatorSeats } from '../server/src/platform/operators.ts';
import { exitWith } from './exit-with.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seats: { type: 'string' } } });
  if (values.seats === undefined || !/^\d+$/.test(values.seats)) {
    console.error('Usage: npm run operator:seats -- --seats 1');
    return 2;
  }
  const config = loadConfig();
  const log = createLogger('warn');
  const db = await openDatabase(databaseOptionsFrom(config));
  const bus = createEventBus({ log, redisUrl: config.redisUrl, redisCaFile: config.redisCaFile, channelPrefix: config.redisChannelPrefix });
  try {
    const removed = await lowerOperatorSeats({ db, clock: systemClock, bus }, Number(values.seats));
    console.log(removed.length ? `Seat ${removed.join(', ')} removed: Vigil now has ${values.seats} operator seat(s), for good.` : `Vigil has ${values.seats} operator seat(s) already.`);
    return 0;
  } catch (error) {
    if (!(error instanceof SeatsNotLowered)) throw error;
    console.error(error.message);
    return 1;
  } finally {
    await bus.close();
    await db.close();
  }
}

exitWith(main(), (error) => `Vigil could not lower the seats (${(error as Error).name}).`);
