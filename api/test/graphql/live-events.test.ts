import { randomUUID } from 'node:crypto';
import { testRedis } from '@cic/db/testing';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveAuthorization } from '../../src/graphql/live-authorization.ts';
import { LiveEvents } from '../../src/graphql/live-events.ts';
import { TopicBus } from '@cic/core/lib/topic-bus';
import type { TopicPayloads } from '@cic/core/lib/topics';
import { eventually } from './graphql-fixture.ts';

// The streams every subscription reads, on the topic bus over the real Redis pub/sub: ordering, filtering, ending, and
// what happens to a subscriber that stops reading. (Guards against revoked keys and expired sessions
// are tested end to end in subscriptions.test.ts.)
const { url, prefix } = testRedis();
const publisher = new Redis(url);
const bus = new TopicBus({ redis: publisher, prefix, log: pino({ level: 'silent' }) });
let lagging = 0;
const events = new LiveEvents(bus, { maxQueue: 3, onLagging: () => lagging++ });
afterAll(async () => {
  await bus.close();
  publisher.disconnect();
});

const listeners = async (channel: string) => ((await publisher.pubsub('NUMSUB', channel)) as [string, number])[1];
const line = (nodeId: string, message: string): TopicPayloads['nodeEvents'] => ({
  id: randomUUID(), nodeId, kind: 'LOG', message, fromStatus: null, toStatus: null, createdAt: new Date().toISOString(),
});

describe('live event streams', () => {
  it('delivers in order, only what the filter keeps, and return() ends a pending next() and unsubscribes', async () => {
    const nodeId = `node_${randomUUID()}`;
    const stream = events.subscribe('nodeEvents', nodeId, { filter: (e) => e.message !== 'skip' });
    await eventually(async () => (await listeners(bus.channel('nodeEvents', nodeId))) === 1);
    for (const message of ['one', 'skip', 'two']) await bus.publish('nodeEvents', line(nodeId, message), nodeId);
    expect((await stream.next()).value?.message).toBe('one');
    expect((await stream.next()).value?.message).toBe('two');
    const pending = stream.next();
    await stream.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    await eventually(async () => (await listeners(bus.channel('nodeEvents', nodeId))) === 0);
  });

  it('ends a subscriber that falls too far behind with an error instead of queueing without bound', async () => {
    const nodeId = `node_${randomUUID()}`;
    const stream = events.subscribe('nodeEvents', nodeId);
    await eventually(async () => (await listeners(bus.channel('nodeEvents', nodeId))) === 1);
    for (let i = 0; i < 4; i++) await bus.publish('nodeEvents', line(nodeId, `line ${i}`), nodeId);
    await eventually(async () => (await listeners(bus.channel('nodeEvents', nodeId))) === 0);
    await expect(stream.next()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/fell 3 events behind/) });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(lagging).toBe(1);
  });

  it('a guarded stream refuses an event the viewer may not see, and ends', async () => {
    const organizationId = `org_${randomUUID()}`;
    const live = new LiveAuthorization({ prisma: null as never, log: null as never });
    const viewer = { kind: 'apiKey' as const, keyId: 'key_x', prefix: 'x', organizationId: 'org_other', selectedOrganizationId: 'org_other' };
    const stream = events.subscribe('billingChanged', organizationId, { guard: { live, viewer, check: { orgMember: organizationId } } });
    await eventually(async () => (await listeners(bus.channel('billingChanged', organizationId))) === 1);
    const refused = expect(stream.next()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await bus.publish('billingChanged', { organizationId, balanceMicros: '1', frozen: false, low: false }, organizationId);
    await refused;
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    await eventually(async () => (await listeners(bus.channel('billingChanged', organizationId))) === 0);
  });

  it('server shutdown ends a guarded stream that is waiting for events', async () => {
    const organizationId = `org_${randomUUID()}`;
    const live = new LiveAuthorization({ prisma: null as never, log: null as never });
    const viewer = { kind: 'apiKey' as const, keyId: 'key_y', prefix: 'y', organizationId, selectedOrganizationId: organizationId };
    const stream = events.subscribe('billingChanged', organizationId, { guard: { live, viewer, check: { orgMember: organizationId } } });
    const ended = expect(stream.next()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    live.shutdown();
    await ended;
  });
});
