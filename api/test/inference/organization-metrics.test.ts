// The `organization` label of cic_inference_requests_total and cic_inference_tokens_total is bounded: the
// busiest INFERENCE_METRICS_TOP_ORGANIZATIONS organizations by id, everyone else `other`.
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '@cic/core/api-keys/key-format';
import type { Simulator } from '@cic/vllm-sim';
import { OrganizationLabels } from '../../src/inference/organization-labels.ts';
import { createInferenceWorld, type InferenceWorld, MODEL, startSim } from './inference-fixture.ts';

const TOP = 3;
let world: InferenceWorld;
let sim: Simulator;
let api: { url: string; baseURL: string };

beforeAll(async () => {
  world = await createInferenceWorld();
  sim = await startSim();
  await world.addNode(sim.url);
  api = await world.startApi({ env: { INFERENCE_METRICS_TOP_ORGANIZATIONS: String(TOP) } });
});

afterAll(async () => {
  await world?.close();
  await sim?.close();
});

/** A funded organization with a key of its own. */
async function organizationClient(): Promise<{ id: string; name: string; client: OpenAI }> {
  const name = `Tenant ${randomBytes(4).toString('hex')}`;
  const org = await world.prisma.organization.create({
    data: { name, slug: name.toLowerCase().replace(' ', '-'), billingAccount: { create: { balanceMicros: 1_000_000_000n } } },
  });
  const k = generateKey();
  await world.prisma.apiKey.create({ data: { organizationId: org.id, name: 'k', prefix: k.prefix, secretHash: k.secretHash } });
  return { id: org.id, name, client: new OpenAI({ apiKey: k.secret, baseURL: api.baseURL, maxRetries: 0 }) };
}

/** The `organization` values of a metric's series, from the API's /metrics. */
async function organizationLabels(metric: string): Promise<Set<string>> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const values = [...text.matchAll(new RegExp(`^${metric}\\{[^}]*organization="([^"]*)"`, 'gm'))].map((m) => m[1]!);
  return new Set(values);
}

describe('the organization label through the API', () => {
  it(`keeps at most ${TOP} organization ids plus other for ${TOP + 20} organizations, ids only`, async () => {
    const orgs = await Promise.all(Array.from({ length: TOP + 20 }, organizationClient));
    for (const { client } of orgs) {
      await world.eventually(async () => (await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 })).id || null);
    }
    // One unauthenticated request: no organization is known.
    await fetch(`${api.baseURL}/chat/completions`, { method: 'POST', body: '{}' });
    const requests = await organizationLabels('cic_inference_requests_total');
    const tokens = await organizationLabels('cic_inference_tokens_total');
    const ids = new Set(orgs.map((o) => o.id));
    const labelled = [...requests].filter((v) => v !== 'other' && v !== 'none');
    expect(labelled.length).toBeLessThanOrEqual(TOP);
    expect(labelled.every((v) => ids.has(v))).toBe(true);
    expect(requests.has('other')).toBe(true);
    expect(requests.has('none')).toBe(true);
    expect([...tokens].every((v) => v === 'other' || ids.has(v))).toBe(true);
    expect(tokens.size).toBeLessThanOrEqual(TOP + 1);
    // Operators see opaque ids, never tenants' names or slugs.
    const text = await (await fetch(`${api.url}/metrics`)).text();
    for (const { name } of orgs) expect(text).not.toContain(name.split(' ')[1]);
  });
});

describe('OrganizationLabels', () => {
  const setup = (topN: number) => {
    let now = 0;
    const counter = new Counter({ name: 'test_requests_total', help: 'x', labelNames: ['organization'] as const, registers: [new Registry()] });
    const labels = new OrganizationLabels({ topN, counters: [counter], windowMs: 1_000, now: () => now });
    const hit = (org: string, times = 1): string => {
      let label = '';
      for (let i = 0; i < times; i++) counter.inc({ organization: (label = labels.labelOf(org)) });
      return label;
    };
    const series = async () => (await counter.get()).values.map((v) => v.labels.organization).sort();
    return { labels, hit, series, advance: (ms: number) => (now += ms) };
  };

  it('labels the first N organizations seen, the rest other, and no organization none', () => {
    const { hit, labels } = setup(2);
    expect(['a', 'b', 'c', 'd'].map((o) => hit(o))).toEqual(['a', 'b', 'other', 'other']);
    expect(labels.labelOf(undefined)).toBe('none');
    expect([...labels.labelled]).toEqual(['a', 'b']);
  });

  it('gives the busiest organization of a window the place of the least busy one, removing its series', async () => {
    const { hit, labels, series, advance } = setup(2);
    hit('a', 5);
    hit('b', 1);
    hit('c', 9);
    expect(await series()).toEqual(['a', 'b', 'other']);
    advance(1_000);
    // The first request of the next window ranks the last one: c (9) and a (5) are the top two.
    expect(hit('b')).toBe('other');
    expect([...labels.labelled].sort()).toEqual(['a', 'c']);
    expect(hit('c')).toBe('c');
    await new Promise((r) => setImmediate(r));
    expect(await series()).toEqual(['a', 'c', 'other']);
  });

  it('never holds more than N ids across many windows of changing traffic', async () => {
    const { hit, labels, series, advance } = setup(3);
    for (let w = 0; w < 10; w++) {
      for (let o = 0; o < 23; o++) hit(`org${o}`, ((o * 7 + w * 5) % 11) + 1);
      expect(labels.labelled.size).toBeLessThanOrEqual(3);
      advance(1_000);
    }
    await new Promise((r) => setImmediate(r));
    expect((await series()).length).toBeLessThanOrEqual(4);
  });
});
