/**
 * What one pass of background work says of the next: run again after this many milliseconds,
 * or sleep (`null`) until nudged.
 */
export type NextPass = number | null;

/**
 * A piece of background work run pass after pass, never two passes at once: a nudge during a pass
 * runs one more right after it; otherwise the pass's own answer says when the next one runs. The
 * mail sender, the webhook worker and the feed's fan-out are each one of these.
 */
export class WorkLoop {
  readonly #pass: () => Promise<NextPass>;
  readonly #failed: (error: unknown) => NextPass;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;

  /**
   * @param pass one pass of the work; resolves with when the next should run.
   * @param failed told a pass's error (to log it); returns when the next pass should run.
   */
  constructor(pass: () => Promise<NextPass>, failed: (error: unknown) => NextPass) {
    this.#pass = pass;
    this.#failed = failed;
  }

  start(): void {
    this.#stopped = false;
    this.nudge();
  }

  /** Runs a pass now, or right after the one in flight. Does nothing once stopped. */
  nudge(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    let next: NextPass = null;
    this.#running = this.#pass()
      .then(
        (wait) => {
          next = wait;
        },
        (error: unknown) => {
          next = this.#failed(error);
        },
      )
      .finally(() => {
        this.#running = null;
        if (this.#stopped) return;
        if (this.#again) {
          this.#again = false;
          this.nudge();
        } else if (next !== null) {
          this.#timer = setTimeout(() => this.nudge(), Math.max(0, next));
          this.#timer.unref();
        }
      });
  }

  /** Stops: no pass starts after this; resolves once the pass in flight has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#again = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
