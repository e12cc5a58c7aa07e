import { AppError } from '@cic/core/errors';
import type { TopicBus } from '@cic/core/lib/topic-bus';
import type { Topic, TopicPayloads } from '@cic/core/lib/topics';
import type { Viewer } from '@cic/core/auth/viewer';
import type { LiveAuthorization, LiveCheck } from './live-authorization.ts';

/** Where events arrive: the process's topic bus (one Redis subscription per channel, JSON parsed once per message). */
export type EventSource = Pick<TopicBus, 'subscribe'>;

export interface LiveSubscribeOptions<T> {
  /** Only the events it returns true for are delivered. */
  filter?: (event: T) => boolean;
  /**
   * Re-authorizes every event before it is delivered, and ends the stream with an error as soon as the
   * viewer's key is revoked, its session token expires or the server shuts down, even between events.
   * Omitted only for the server's own listeners.
   */
  guard?: { live: LiveAuthorization; viewer: Viewer; check: LiveCheck };
}

/**
 * Subscriptions' event streams: one handler and one small queue per subscriber on the topic bus.
 * This is the per-delivery hot path (1,000 subscribers mean 1,000 deliveries per event), so it is one
 * iterator doing filter, queue and guard, instead of a chain of Repeaters allocating several promises
 * per event and layer.
 */
export interface LiveEventsOptions {
  /**
   * Events a subscriber may fall behind (its socket or its client too slow) before its stream ends.
   * @defaultValue 1000
   */
  maxQueue?: number;
  /** Called when a subscriber's stream ends for falling behind (a metric). */
  onLagging?: () => void;
}

export class LiveEvents {
  readonly #source: EventSource;
  readonly #limits: Required<LiveEventsOptions>;

  constructor(source: EventSource, { maxQueue = 1_000, onLagging = () => undefined }: LiveEventsOptions = {}) {
    this.#source = source;
    this.#limits = { maxQueue, onLagging };
  }

  subscribe<K extends Topic>(topic: K, id?: string, options: LiveSubscribeOptions<TopicPayloads[K]> = {}): AsyncIterableIterator<TopicPayloads[K]> {
    const stream = new LiveStream<TopicPayloads[K]>(this.#limits, options);
    const listener = (value: TopicPayloads[K]) => stream.push(value);
    stream.onEnd(id === undefined ? this.#source.subscribe(topic, listener) : this.#source.subscribe(topic, id, listener));
    return stream;
  }
}

type Waiter<T> = { resolve: (result: IteratorResult<T>) => void; reject: (err: Error) => void };

class LiveStream<T> implements AsyncIterableIterator<T> {
  readonly #queue: T[] = [];
  #waiter: Waiter<T> | null = null;
  #failure: Error | null = null;
  #ended = false;
  readonly #cleanups: (() => void)[] = [];
  readonly #authorize: (() => Promise<void>) | null;
  readonly #filter: ((event: T) => boolean) | undefined;
  readonly #limits: Required<LiveEventsOptions>;

  constructor(limits: Required<LiveEventsOptions>, { filter, guard }: LiveSubscribeOptions<T>) {
    this.#limits = limits;
    this.#filter = filter;
    this.#authorize = guard ? () => guard.live.assertAllowed(guard.viewer, guard.check) : null;
    if (guard) this.#watch(guard);
  }

  /** One event from the bus. */
  push(value: T): void {
    if (this.#ended || (this.#filter && !this.#filter(value))) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = null;
      this.#deliver(value).then(waiter.resolve, waiter.reject);
    } else if (this.#queue.length >= this.#limits.maxQueue) {
      this.#limits.onLagging();
      this.#end(new AppError('UNAVAILABLE', `This subscriber fell ${this.#limits.maxQueue} events behind; subscribe again.`));
    } else {
      this.#queue.push(value);
    }
  }

  /** Runs `cleanup` when the stream ends (at once if it already has). */
  onEnd(cleanup: () => void): void {
    if (this.#ended) cleanup();
    else this.#cleanups.push(cleanup);
  }

  #watch({ live, viewer }: NonNullable<LiveSubscribeOptions<T>['guard']>): void {
    if (viewer.kind === 'apiKey') {
      this.#cleanups.push(live.watchKey(viewer.keyId));
      this.#cleanups.push(live.onKeyRevoked((keyId) => {
        if (keyId === viewer.keyId) this.#end(new AppError('UNAUTHENTICATED', 'This API key has been revoked.', { detail: 'invalid_api_key' }));
      }));
    }
    if (viewer.kind === 'user') {
      const expiry = setTimeout(
        () => this.#end(new AppError('UNAUTHENTICATED', 'The session token has expired; reconnect with a fresh one.', { detail: 'token_expired' })),
        Math.max(0, viewer.expiresAt.getTime() - Date.now()),
      );
      this.#cleanups.push(() => clearTimeout(expiry));
    }
    this.#cleanups.push(live.onShutdown(() => this.#end(new AppError('UNAVAILABLE', 'The server is restarting; reconnect.'))));
  }

  /** The value once the viewer is still allowed; otherwise the stream ends with the refusal. */
  async #deliver(value: T): Promise<IteratorResult<T>> {
    if (this.#authorize) {
      try {
        await this.#authorize();
      } catch (err) {
        this.#end();
        throw err;
      }
    }
    return { value, done: false };
  }

  /** Stops listening; a pending next() settles now, otherwise the next call reports `err`. */
  #end(err?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue.length = 0;
    for (const cleanup of this.#cleanups) cleanup();
    const waiter = this.#waiter;
    this.#waiter = null;
    if (!waiter) this.#failure = err ?? null;
    else if (err) waiter.reject(err);
    else waiter.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length > 0) return this.#deliver(this.#queue.shift()!);
    if (this.#failure) {
      const failure = this.#failure;
      this.#failure = null;
      return Promise.reject(failure);
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.#end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
