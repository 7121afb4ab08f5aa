import { describeError } from './graphql.ts';

/**
 * What a screen (or a region of one) reads from the API, with the sentence it shows after an action, for
 * either app: `load` reads it again; `act` runs an action, then shows the data as it now stands and the
 * sentence that says what changed, or why it failed.
 */
export class ScreenData<T> {
  /** Null until the first read has answered. */
  value = $state.raw<T | null>(null);
  error = $state<string | null>(null);
  message = $state<string | null>(null);
  /** An action is under way. */
  busy = $state(false);
  readonly #read: () => Promise<T>;

  constructor(read: () => Promise<T>) {
    this.#read = read;
  }

  async load(): Promise<void> {
    try {
      this.value = await this.#read();
      this.error = null;
    } catch (failure) {
      this.error = describeError(failure);
    }
  }

  /** The data as it now stands, then `text` (an action done elsewhere, or none). */
  async done(text: string | null): Promise<void> {
    this.message = null;
    await this.load();
    this.message = text;
  }

  /** Runs `work`, whose answer is the sentence to say once the data is read again; resolves whether it worked. */
  async act(work: () => Promise<string | null>): Promise<boolean> {
    this.busy = true;
    this.error = this.message = null;
    try {
      await this.done(await work());
      return true;
    } catch (failure) {
      await this.load();
      this.error = describeError(failure);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
