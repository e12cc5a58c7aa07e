import { randomUUID } from 'node:crypto';
import { testRedis } from '@cic/db/testing';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../src/lib/redis.ts';
import { TopicBus } from '../src/lib/topic-bus.ts';
import type { TopicPayloads } from '../src/lib/topics.ts';

// The process's pub/sub on the real Redis: prefixed channels, one subscriber connection, reference-counted
// subscriptions, and what happens when Redis drops that connection.
const { url, prefix } = testRedis();
const log = pino({ level: 'silent' });
const admin = new Redis(url);
const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const o of opened) await o.close();
  admin.disconnect();
});

function newBus(busPrefix = `${prefix}${randomUUID().slice(0, 8)}:`, registry?: Registry, lazyConnect = false) {
  const redis = createRedis(url, log, { lazyConnect });
  const bus = new TopicBus({ redis, prefix: busPrefix, log, registry });
  opened.push({ close: async () => { await bus.close(); redis.disconnect(); } });
  return bus;
}

const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const numsub = async (channel: string) => ((await admin.pubsub('NUMSUB', channel)) as [string, number])[1];
/** Redis's client list entries named after this bus's subscriber connection. */
const subscriberClients = async (bus: TopicBus) =>
  ((await admin.client('LIST')) as string).split('\n').filter((line) => line.includes(` name=${bus.connectionName} `));
const usage = (organizationId: string, requests: number): TopicPayloads['usageUpdated'] =>
  ({ organizationId, requests, promptTokens: 0, completionTokens: 0, at: new Date().toISOString() });

describe('TopicBus', () => {
  it('publishes on prefixed channels and delivers the parsed payload with its id', async () => {
    const bus = newBus();
    const got: [TopicPayloads['usageUpdated'], string | undefined][] = [];
    bus.subscribe('usageUpdated', 'org_a', (payload, id) => got.push([payload, id]));
    await bus.settled();
    expect(await numsub(`${bus.prefix}usageUpdated:org_a`)).toBe(1);
    expect(await numsub('usageUpdated:org_a')).toBe(0); // nothing listens without the prefix
    const event = usage('org_a', 3);
    await bus.publish('usageUpdated', event, 'org_a');
    await until(() => got.length === 1, 'the event');
    expect(got).toEqual([[event, 'org_a']]);
  });

  it('two deployments with different prefixes on one Redis do not hear each other', async () => {
    const one = newBus();
    const two = newBus();
    const heard = { one: 0, two: 0 };
    one.subscribe('apiKeyChanged', () => heard.one++);
    two.subscribe('apiKeyChanged', () => heard.two++);
    one.subscribeAll('billingChanged', () => heard.one++);
    await Promise.all([one.settled(), two.settled()]);
    await two.publish('apiKeyChanged', { keyId: 'key_1', prefix: 'p' });
    await two.publish('billingChanged', { organizationId: 'org_1', balanceMicros: '1', frozen: false, low: false }, 'org_1');
    await until(() => heard.two === 1, "deployment two's own event");
    await one.publish('apiKeyChanged', { keyId: 'key_2', prefix: 'p' });
    await until(() => heard.one === 1, "deployment one's own event");
    expect(heard).toEqual({ one: 1, two: 1 });
  });

  it('subscribeAll receives every id of a topic through one pattern, and a glob character in the prefix stays literal', async () => {
    const bus = newBus(`${prefix}${randomUUID().slice(0, 8)}*:`);
    const near = newBus(bus.prefix.replace('*', 'x')); // would match if `*` were a wildcard
    const ids: (string | undefined)[] = [];
    bus.subscribeAll('billingChanged', (payload, id) => ids.push(id));
    await bus.settled();
    await near.publish('billingChanged', { organizationId: 'org_near', balanceMicros: '1', frozen: false, low: false }, 'org_near');
    for (const org of ['org_1', 'org_2']) await bus.publish('billingChanged', { organizationId: org, balanceMicros: '1', frozen: false, low: false }, org);
    await until(() => ids.length === 2, 'both events');
    expect(ids).toEqual(['org_1', 'org_2']);
  });

  it('shares one Redis subscription per channel and one subscriber connection, and unsubscribes with the last handler', async () => {
    const bus = newBus();
    const channel = bus.channel('nodeEvents', 'node_1');
    const seen = { a: 0, b: 0 };
    const offA = bus.subscribe('nodeEvents', 'node_1', () => seen.a++);
    const offB = bus.subscribe('nodeEvents', 'node_1', () => seen.b++);
    const offOther = bus.subscribe('nodeStatusChanged', () => undefined);
    await bus.settled();
    expect(await numsub(channel)).toBe(1);
    expect(await subscriberClients(bus)).toHaveLength(1);
    offA();
    offA(); // twice is harmless: b keeps listening
    await bus.settled();
    expect(await numsub(channel)).toBe(1);
    await bus.publish('nodeEvents', { id: 'e1', nodeId: 'node_1', kind: 'LOG', message: 'm', fromStatus: null, toStatus: null, createdAt: '' }, 'node_1');
    await until(() => seen.b === 1, "b's event");
    expect(seen.a).toBe(0);
    offB();
    await bus.settled();
    expect(await numsub(channel)).toBe(0);
    offOther();
  });

  it('subscribes even when the command connection was made lazy (its duplicate still connects)', async () => {
    const bus = newBus(undefined, undefined, true);
    const got: string[] = [];
    bus.subscribe('apiKeyChanged', (p) => got.push(p.keyId));
    await until(() => bus.listening, 'the subscription');
    await bus.publish('apiKeyChanged', { keyId: 'key_lazy', prefix: 'p' });
    await until(() => got.length === 1, 'the event');
  });

  it('a process that only publishes opens no subscriber connection', async () => {
    const bus = newBus();
    await bus.publish('apiKeyChanged', { keyId: 'k', prefix: 'p' });
    expect(await subscriberClients(bus)).toHaveLength(0);
  });

  it('resubscribes every channel and pattern after Redis kills its connection, and tells listeners to resync', async () => {
    const registry = new Registry();
    const bus = newBus(undefined, registry);
    const got: string[] = [];
    let resyncs = 0;
    bus.onResync(() => resyncs++);
    bus.subscribe('apiKeyChanged', (p) => got.push(p.keyId));
    bus.subscribeAll('usageUpdated', (p) => got.push(p.organizationId));
    await until(() => bus.listening, 'the first subscription');
    expect(resyncs).toBe(1);

    const [client] = await subscriberClients(bus);
    const id = /\bid=(\d+)/.exec(client!)![1]!;
    await admin.client('KILL', 'ID', id);
    await until(() => resyncs === 2, 'the resync after the reconnect');
    expect(bus.listening).toBe(true);
    const [again] = await subscriberClients(bus);
    expect(/\bid=(\d+)/.exec(again!)![1]).not.toBe(id); // a new connection, not the old one

    await bus.publish('apiKeyChanged', { keyId: 'key_after', prefix: 'p' });
    await bus.publish('usageUpdated', usage('org_after', 1), 'org_after');
    await until(() => got.length === 2, 'events after the reconnect');
    expect(got.sort()).toEqual(['key_after', 'org_after']);
    expect(await registry.getSingleMetricAsString('cic_topic_bus_resyncs_total')).toMatch(/ 2$/m);
    expect(await registry.getSingleMetricAsString('cic_topic_bus_channels')).toMatch(/ 2$/m);
  });

  it('drops a message that is not JSON and keeps delivering; a throwing handler does not starve the others', async () => {
    const registry = new Registry();
    const bus = newBus(undefined, registry);
    const got: string[] = [];
    bus.subscribe('apiKeyChanged', () => {
      throw new Error('a broken cache');
    });
    bus.subscribe('apiKeyChanged', (p) => got.push(p.keyId));
    await bus.settled();
    await admin.publish(bus.channel('apiKeyChanged'), 'not json');
    await bus.publish('apiKeyChanged', { keyId: 'key_ok', prefix: 'p' });
    await until(() => got.length === 1, 'the readable event');
    expect(got).toEqual(['key_ok']);
    expect(await registry.getSingleMetricAsString('cic_topic_bus_unreadable_messages_total')).toMatch(/topic="apiKeyChanged"} 1$/m);
  });
});
