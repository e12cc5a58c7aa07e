import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger.ts';
import { duplicateRedis, withTimeout } from './redis.ts';
import type { Topic, TopicPayloads } from './topics.ts';

/** Receives one event; `id` is the channel's id (`topic:<id>`), undefined on a topic-wide channel. */
export type TopicHandler<T extends Topic> = (payload: TopicPayloads[T], id: string | undefined) => void;

/** Ends one subscription; calling it again does nothing. */
export type Unsubscribe = () => void;

/** What a service that only announces changes needs (revoke a key, move a node…). */
export type TopicPublisher = Pick<TopicBus, 'publish'>;

export interface TopicBusOptions {
  /** The process's command connection: events are published on it, and the subscriber connection is its duplicate. */
  redis: Redis;
  /**
   * Put before every channel name, as key prefixes are put before keys, so deployments sharing one Redis do
   * not hear each other. Every process of a deployment (api, jobs) uses the same (`REDIS_CHANNEL_PREFIX`).
   */
  prefix: string;
  log: Logger;
  /** Where the bus's metrics go; none when omitted. */
  registry?: Registry;
  /** Events kept for retry while Redis is away; past it the oldest is dropped (and counted). @defaultValue 10000 */
  maxQueued?: number;
  /** How long one PUBLISH may take before the event is queued for retry (Redis hanging). @defaultValue 1000 */
  publishTimeoutMs?: number;
}

/** Delay before the first retry of queued events, doubled up to RETRY_MAX_MS while Redis stays away. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;

interface Channel {
  topic: Topic;
  /** A channel's id (undefined: topic-wide). */
  id?: string | undefined;
  /** A pattern's channel names minus their ids. */
  base?: string;
  subscriptions: Set<{ handler: TopicHandler<never> }>;
}

type Kind = 'channel' | 'pattern';

/** PSUBSCRIBE treats these as glob syntax; a prefix may contain them. */
const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

/**
 * The process's Redis pub/sub: ONE subscriber connection however many caches and GraphQL streams listen,
 * each channel subscribed once and unsubscribed when its last handler leaves. The bus, not ioredis, owns
 * the list of channels: after every (re)connect it subscribes all of them again and then calls the
 * `onResync` listeners, because whatever was published while the connection was away is lost. The
 * subscriber connection opens on the first subscription (a process that only publishes never opens it).
 */
export class TopicBus {
  readonly prefix: string;
  /** The subscriber connection's name in CLIENT LIST (`<prefix>topic-bus:<random>`), one per bus. */
  readonly connectionName: string;
  readonly #redis: Redis;
  readonly #log: Logger;
  readonly #channels = new Map<string, Channel>();
  readonly #patterns = new Map<string, Channel>();
  readonly #resyncListeners = new Set<() => void>();
  readonly #metrics: { resyncs: Counter; unreadable: Counter<'topic'>; deferred: Counter<'topic'>; dropped: Counter<'topic'> } | null;
  readonly #maxQueued: number;
  readonly #publishTimeoutMs: number;
  /** Events whose PUBLISH failed, oldest first, waiting for Redis (see publish). */
  readonly #outbox: { topic: Topic; channel: string; message: string }[] = [];
  #retryTimer: NodeJS.Timeout | null = null;
  #retryDelay = RETRY_MIN_MS;
  #subscriber: Redis | null = null;
  /** Settles when the last (un)subscribe command sent was answered: commands on one connection answer in order. */
  #last: Promise<unknown> = Promise.resolve();
  /** Bumped on every connect and disconnect, so a resubscription answered after the connection dropped again is ignored. */
  #epoch = 0;
  #listening = false;
  #closed = false;

  constructor({ redis, prefix, log, registry, maxQueued = 10_000, publishTimeoutMs = 1_000 }: TopicBusOptions) {
    this.#redis = redis;
    this.#maxQueued = maxQueued;
    this.#publishTimeoutMs = publishTimeoutMs;
    this.prefix = prefix;
    this.connectionName = `${prefix}topic-bus:${randomUUID().slice(0, 8)}`;
    this.#log = log.child({ component: 'topic-bus' });
    this.#metrics = registry
      ? {
          resyncs: new Counter({ name: 'cic_topic_bus_resyncs_total', help: 'Times the pub/sub connection (re)connected and resubscribed; caches reloaded.', registers: [registry] }),
          unreadable: new Counter({ name: 'cic_topic_bus_unreadable_messages_total', help: 'Messages dropped because they were not JSON.', labelNames: ['topic'], registers: [registry] }),
          deferred: new Counter({ name: 'cic_topic_bus_publish_deferred_total', help: 'Events whose publish failed (Redis away) and were queued for retry.', labelNames: ['topic'], registers: [registry] }),
          dropped: new Counter({ name: 'cic_topic_bus_publish_dropped_total', help: 'Queued events dropped because the retry queue was full.', labelNames: ['topic'], registers: [registry] }),
        }
      : null;
    if (registry) {
      const count = () => this.#channels.size + this.#patterns.size;
      const outbox = this.#outbox;
      new Gauge({
        name: 'cic_topic_bus_publish_queued', help: 'Events waiting for Redis to be published.', registers: [registry],
        collect() {
          this.set(outbox.length);
        },
      });
      new Gauge({
        name: 'cic_topic_bus_channels', help: 'Channels and patterns this process is subscribed to.', registers: [registry],
        collect() {
          this.set(count());
        },
      });
    }
  }

  /** The Redis channel of `topic` (and `id`), with this deployment's prefix. */
  channel(topic: Topic, id?: string): string {
    return id === undefined ? `${this.prefix}${topic}` : `${this.prefix}${topic}:${id}`;
  }

  /**
   * Sends one event to every process of this deployment (this one included); the payload travels as JSON.
   * Never rejects: events announce changes already committed, so a caller must not report failure for
   * them. When Redis is away (or hangs past publishTimeoutMs) the event is queued and retried in order,
   * with backoff, until Redis answers; the queue is bounded (maxQueued, oldest dropped). Delivery is at
   * least once (a PUBLISH that timed out may still have gone through), which every topic tolerates: its
   * events say "re-read this", or carry the state itself.
   */
  async publish<T extends Topic>(topic: T, payload: TopicPayloads[T], id?: string): Promise<void> {
    const event = { topic, channel: this.channel(topic, id), message: JSON.stringify(payload) };
    if (this.#outbox.length === 0 && !this.#closed) {
      try {
        await this.#publishNow(event);
        return;
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, topic }, 'publish failed; queued for retry');
      }
    }
    this.#defer(event);
  }

  /** Events waiting for Redis (see publish). */
  get queuedEvents(): number {
    return this.#outbox.length;
  }

  /** Calls `handler` for each event on `topic` (topic-wide), or on `topic:<id>` when an id is given. */
  subscribe<T extends Topic>(topic: T, handler: TopicHandler<T>): Unsubscribe;
  subscribe<T extends Topic>(topic: T, id: string, handler: TopicHandler<T>): Unsubscribe;
  subscribe<T extends Topic>(topic: T, idOrHandler: string | TopicHandler<T>, maybeHandler?: TopicHandler<T>): Unsubscribe {
    const [id, handler] = typeof idOrHandler === 'string' ? [idOrHandler, maybeHandler!] : [undefined, idOrHandler];
    return this.#add('channel', this.channel(topic, id), { topic, id, subscriptions: new Set() }, handler);
  }

  /** Calls `handler` for the events of every `topic:<id>` channel (one pattern subscription), with the id. */
  subscribeAll<T extends Topic>(topic: T, handler: (payload: TopicPayloads[T], id: string) => void): Unsubscribe {
    const base = `${this.channel(topic)}:`;
    return this.#add('pattern', `${escapeGlob(base)}*`, { topic, base, subscriptions: new Set() }, handler as TopicHandler<T>);
  }

  /**
   * Calls `listener` each time the subscriber connection is (again) subscribed to every channel, the first
   * time included: events published before that moment were missed, so what a cache holds may be stale.
   */
  onResync(listener: () => void): Unsubscribe {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  /** True while every channel is confirmed subscribed on a live connection (no event can be missed). */
  get listening(): boolean {
    return this.#listening;
  }

  /**
   * Resolves when the subscriptions made so far are in place (or failed): after the connection's next
   * `ready` if it is still connecting, but never longer than until its next error (Redis absent).
   */
  async settled(): Promise<void> {
    const subscriber = this.#subscriber;
    if (subscriber && subscriber.status !== 'ready' && !this.#closed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          subscriber.off('ready', done).off('error', done);
          resolve();
        };
        // Registered after the bus's own `ready` listener, so #last is the resubscription by then.
        subscriber.once('ready', done).once('error', done);
      });
    }
    await this.#last;
  }

  /** Closes the subscriber connection; later (un)subscriptions do nothing. The command connection is the caller's. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (this.#outbox.length > 0) this.#log.warn({ queued: this.#outbox.length }, 'closing with events not yet published');
    this.#subscriber?.disconnect();
    this.#channels.clear();
    this.#patterns.clear();
  }

  #publishNow(event: { channel: string; message: string }): Promise<unknown> {
    // Not handed to ioredis's offline queue: that would send it on reconnect as well as the retry (twice).
    if (this.#redis.status === 'wait') this.#redis.connect().catch(() => undefined); // lazy: connects on demand
    if (this.#redis.status !== 'ready') return Promise.reject(new Error(`redis connection is ${this.#redis.status}`));
    return withTimeout(this.#redis.publish(event.channel, event.message), this.#publishTimeoutMs, 'redis PUBLISH');
  }

  #defer(event: { topic: Topic; channel: string; message: string }): void {
    if (this.#closed) return;
    this.#metrics?.deferred.inc({ topic: event.topic });
    this.#outbox.push(event);
    if (this.#outbox.length > this.#maxQueued) {
      const dropped = this.#outbox.shift()!;
      this.#metrics?.dropped.inc({ topic: dropped.topic });
      this.#log.error({ topic: dropped.topic }, 'publish retry queue full; dropped the oldest event');
    }
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => void this.#flush(), this.#retryDelay);
    this.#retryTimer.unref();
  }

  /** Publishes the queued events in order; on the first failure waits longer and tries again. */
  async #flush(): Promise<void> {
    while (this.#outbox.length > 0 && !this.#closed) {
      const next = this.#outbox[0]!;
      try {
        await this.#publishNow(next);
      } catch {
        this.#retryTimer = null;
        this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MAX_MS);
        this.#scheduleRetry();
        return;
      }
      if (this.#outbox[0] === next) this.#outbox.shift(); // unless the full queue dropped it meanwhile
    }
    this.#retryTimer = null;
    if (this.#outbox.length === 0) {
      this.#retryDelay = RETRY_MIN_MS;
      this.#log.info('queued events published');
    }
  }

  #add<T extends Topic>(kind: Kind, name: string, fresh: Channel, handler: TopicHandler<T>): Unsubscribe {
    const map = kind === 'channel' ? this.#channels : this.#patterns;
    let entry = map.get(name);
    if (!entry) {
      entry = fresh;
      map.set(name, entry);
      this.#send(kind === 'channel' ? 'subscribe' : 'psubscribe', [name]);
    }
    const subscription = { handler: handler as TopicHandler<never> };
    entry.subscriptions.add(subscription);
    const owner = entry;
    return () => {
      if (!owner.subscriptions.delete(subscription) || owner.subscriptions.size > 0 || map.get(name) !== owner) return;
      map.delete(name);
      this.#send(kind === 'channel' ? 'unsubscribe' : 'punsubscribe', [name]);
    };
  }

  /** Sends a (un)subscribe now if the connection is ready; otherwise the next `ready` subscribes what is wanted then. */
  #send(command: 'subscribe' | 'psubscribe' | 'unsubscribe' | 'punsubscribe', names: string[]): void {
    const subscriber = this.#connection();
    if (subscriber?.status !== 'ready' || names.length === 0) return;
    this.#last = subscriber[command](...names).catch((err: unknown) => this.#log.warn({ err: (err as Error).message, command }, 'pub/sub command failed; retried on reconnect'));
  }

  #connection(): Redis | null {
    if (this.#closed) return null;
    if (this.#subscriber) return this.#subscriber;
    // The bus resubscribes itself; ioredis replaying its own list (or stale queued commands) would race it.
    // It sends only on a ready connection, so the connection must not wait for a first command (lazyConnect).
    const subscriber = duplicateRedis(this.#redis, this.#log, {
      autoResubscribe: false, autoResendUnfulfilledCommands: false, enableOfflineQueue: false, lazyConnect: false, connectionName: this.connectionName,
    });
    subscriber.on('message', (channel: string, message: string) => this.#dispatch(this.#channels.get(channel), channel, message));
    subscriber.on('pmessage', (pattern: string, channel: string, message: string) => this.#dispatch(this.#patterns.get(pattern), channel, message));
    subscriber.on('ready', () => this.#resubscribe(subscriber));
    subscriber.on('close', () => {
      this.#epoch++;
      this.#listening = false;
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  #resubscribe(subscriber: Redis): void {
    const epoch = ++this.#epoch;
    const channels = [...this.#channels.keys()];
    const patterns = [...this.#patterns.keys()];
    const done = Promise.all([
      channels.length > 0 ? subscriber.subscribe(...channels) : null,
      patterns.length > 0 ? subscriber.psubscribe(...patterns) : null,
    ]);
    this.#last = done.then(
      () => {
        if (epoch !== this.#epoch) return;
        this.#listening = true;
        this.#metrics?.resyncs.inc();
        for (const listener of this.#resyncListeners) {
          try {
            listener();
          } catch (err) {
            this.#log.error({ err }, 'a resync listener failed');
          }
        }
      },
      (err: unknown) => this.#log.warn({ err: (err as Error).message }, 'resubscribing failed; retried on the next reconnect'),
    );
  }

  #dispatch(entry: Channel | undefined, channel: string, message: string): void {
    if (!entry) return; // unsubscribed meanwhile
    let payload: never;
    try {
      payload = JSON.parse(message) as never;
    } catch {
      this.#metrics?.unreadable.inc({ topic: entry.topic });
      this.#log.warn({ channel }, 'dropped a message that is not JSON');
      return;
    }
    const id = entry.base === undefined ? entry.id : channel.slice(entry.base.length);
    for (const { handler } of entry.subscriptions) {
      try {
        handler(payload, id);
      } catch (err) {
        this.#log.error({ err, channel }, 'a topic handler failed');
      }
    }
  }
}
