import type { ChildProcess } from 'node:child_process';
import { hasExited, killGroup } from './spawn-service.mjs';

/** A started process and how to stop it gracefully: one signal, resolving once it has exited. */
export interface Started {
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface SupervisedProcessOptions {
  name: string;
  /** Starts the process; called again for each restart (which must reuse the same port). */
  start(): Promise<Started>;
  say(message: string): void;
  /** The process exited and will not come back: before `supervise()`, or after too many crashes. */
  onFatal(reason: string): void;
  /** Crashes in a row, each soon after its start, before giving up. @defaultValue 5 */
  maxRapidCrashes?: number;
  /** A process that ran this long before crashing starts the count and the backoff afresh. @defaultValue 60_000 */
  stableAfterMs?: number;
  /** The first restart delay; each quick crash in a row doubles it. @defaultValue 1_000 */
  initialBackoffMs?: number;
  /** @defaultValue 30_000 */
  maxBackoffMs?: number;
}

/**
 * One child of `npm start` under supervision: once `supervise()` is called, an unexpected exit (or a
 * failed restart) restarts it after an exponential backoff, logged each time; after `maxRapidCrashes`
 * quick crashes in a row it gives up through `onFatal`. `stop()` stops it once, without restarting.
 */
export class SupervisedProcess {
  private current: Started | undefined;
  private startedAt = 0;
  private crashes = 0;
  private supervising = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private restarting: Promise<void> | undefined;

  constructor(private readonly opts: SupervisedProcessOptions) {}

  get name(): string {
    return this.opts.name;
  }

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  get running(): boolean {
    return !!this.current && !hasExited(this.current.child);
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    this.attach(await this.opts.start());
  }

  /** From now on an unexpected exit restarts the process instead of being fatal. */
  supervise(): void {
    this.supervising = true;
  }

  /** Stops the process once (its own graceful stop) and cancels any pending restart. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.restarting;
    if (this.current && !hasExited(this.current.child)) await this.current.stop();
  }

  /** The last resort when a stop takes too long: SIGKILL to the process and its own children. */
  kill(): void {
    if (this.current) killGroup(this.current.child);
  }

  private attach(started: Started): void {
    this.current = started;
    started.child.once('exit', (code, signal) => {
      if (this.stopping || started !== this.current) return;
      const how = `${this.opts.name} (pid ${started.child.pid}) exited unexpectedly (${signal ?? `code ${code}`})`;
      if (this.supervising) this.crashed(how);
      else this.opts.onFatal(how);
    });
  }

  private crashed(what: string): void {
    const { maxRapidCrashes = 5, stableAfterMs = 60_000, initialBackoffMs = 1_000, maxBackoffMs = 30_000 } = this.opts;
    this.crashes = Date.now() - this.startedAt >= stableAfterMs ? 1 : this.crashes + 1;
    if (this.crashes >= maxRapidCrashes) {
      this.opts.onFatal(`${what}: ${this.crashes} crashes in a row, each within ${stableAfterMs / 1000} s of starting; giving up`);
      return;
    }
    const delayMs = Math.min(initialBackoffMs * 2 ** (this.crashes - 1), maxBackoffMs);
    this.opts.say(`${what}: restarting in ${delayMs / 1000} s (crash ${this.crashes} in a row; giving up at ${maxRapidCrashes})`);
    this.timer = setTimeout(() => {
      this.restarting = this.restart().finally(() => { this.restarting = undefined; });
    }, delayMs);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    this.startedAt = Date.now();
    let started: Started;
    try {
      started = await this.opts.start();
    } catch (err) {
      if (!this.stopping) this.crashed(`${this.opts.name} did not restart (${(err as Error).message.split('\n')[0]})`);
      return;
    }
    if (this.stopping) return started.stop();
    this.attach(started);
    this.opts.say(`${this.opts.name} restarted (pid ${started.child.pid})`);
  }
}
