export interface StopSignalActions {
  /** The first press: stop everything gracefully (each child drains). */
  stop(signal: NodeJS.Signals): void;
  /** The second: the drain goes on; say what it waits for. */
  remind(): void;
  /** The third: kill what is left. */
  force(): void;
}

/**
 * Counts stop requests (SIGINT, SIGTERM, SIGHUP) as presses: one drains, a second does not cut the
 * drain short, a third forces. Signals within `sameWithinMs` of the last counted one are the same press:
 * under `npm start` a terminal's Ctrl-C reaches the launcher twice, from the terminal and forwarded by npm.
 * @returns the handler; `now` is for tests.
 */
export function stopSignalHandler(actions: StopSignalActions, sameWithinMs = 500): (signal: NodeJS.Signals, now?: number) => void {
  let presses = 0;
  let lastPress = -Infinity;
  return (signal, now = Date.now()) => {
    if (now - lastPress < sameWithinMs) return;
    lastPress = now;
    presses++;
    if (presses === 1) actions.stop(signal);
    else if (presses === 2) actions.remind();
    else actions.force();
  };
}

/**
 * Calls `onGone` once when this process's parent exits (it is re-parented): `kill <npm pid>` under a shell
 * that does not forward the signal, or a parent killed with -9, still stops the platform.
 * @returns a function that stops watching.
 */
export function watchParent(onGone: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
