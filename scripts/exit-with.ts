import { ConfigError } from '../server/src/config-error.ts';

/**
 * A command's end: its exit code, or 2 on an error, printed as the sentence a ConfigError carries, else
 * as `describe` puts it (never a stack for a person to read).
 */
export function exitWith(done: Promise<number>, describe: (error: unknown) => unknown = (error) => error): void {
  done.then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof ConfigError ? error.message : describe(error));
      process.exit(2);
    },
  );
}
