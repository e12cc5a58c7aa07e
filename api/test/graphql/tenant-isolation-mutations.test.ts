import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema/index.ts';
import { createGraphQLWorld, gql, type GqlResult } from './graphql-fixture.ts';
import { seedDistinctTenant, snapshotTenant, tenantFingerprint, type DistinctTenant, type GraphQLWorld, type TenantFigures } from './distinct-tenant.ts';
import { SchemaWalk, WALK_LIMITS, type WalkOperation, type WalkTargets } from './schema-walk.ts';

/**
 * Tenant A runs every mutation of the schema with tenant B's ids (and the platform's node and model):
 * each must be refused NOT_FOUND or FORBIDDEN, answer nothing of B, and leave B's rows in Postgres as
 * they were. The same operations, on a fresh tenant of their own, must get past authorization for their
 * rightful caller (so A's refusals are about tenancy, not about malformed arguments) and what they
 * change must show in the snapshot (so "unchanged" means something).
 */

const FIGURES: TenantFigures = { balanceMicros: 2_718_281_828n, requests: 3_141_592, maxRpm: 8_642_097, maxTpm: 7_654_321, defaultRpm: 5_318_008, defaultTpm: 4_669_201 };
/** A mutation's answer is not what is walked here (queries are): a shallow selection keeps it cheap. */
const DEPTH = 2;
const REFUSALS = new Set(['NOT_FOUND', 'FORBIDDEN']);

let world: GraphQLWorld;
let url: string;
let a: DistinctTenant;
let b: DistinctTenant;
let bPrint: Awaited<ReturnType<typeof tenantFingerprint>>;

beforeAll(async () => {
  world = await createGraphQLWorld();
  url = (await world.startApi(WALK_LIMITS)).url;
  a = await seedDistinctTenant(world, url, 'Acme', { balanceMicros: 1_414_213_562n, requests: 1_732_050, maxRpm: 2_236_067, maxTpm: 9_876_543, defaultRpm: 1_618_033, defaultTpm: 6_180_339 });
  b = await seedDistinctTenant(world, url, 'Bolt', FIGURES);
  await world.prisma.nodeEvent.create({ data: { nodeId: world.node.id, kind: 'LOG', message: 'pulling weights' } });
  bPrint = await tenantFingerprint(world, b);
});
afterAll(() => world.close());

/** Every mutation of the schema: one test each, so a new one is walked (and named) without editing this file. */
const MUTATIONS = Object.keys(schema.getMutationType()!.getFields()).sort();

const codesOf = (result: GqlResult) => (result.errors ?? []).map((e) => e.extensions?.code);
const label = (who: string, op: WalkOperation) => `${who} ${op.field}${JSON.stringify(op.variables)}`;
const walkOf = (targets: WalkTargets, field: string) => new SchemaWalk(schema, targets, DEPTH).operations('mutation').filter((op) => op.field === field);

// Runs first: the rightful callers below change the node and the model.
describe("tenant A with tenant B's ids", () => {
  it.each(MUTATIONS)("%s is refused NOT_FOUND or FORBIDDEN, answers nothing of B and leaves B's rows as they were", async (field) => {
    const operations = walkOf(bPrint.targets, field);
    expect(operations.length).toBeGreaterThan(0);
    const forbidden = [...bPrint.values, b.apiKey.secret];
    const attackers = [
      { who: 'A owner', auth: a.ownerToken },
      { who: 'A member', auth: a.memberToken },
      { who: 'A key', auth: a.apiKey.secret },
    ];
    const before = await snapshotTenant(world, b.org.id);
    for (const { who, auth } of attackers) {
      for (const op of operations) {
        const r = await gql<Record<string, unknown>>(url, op.text, op.variables, { auth, headers: { 'x-organization-id': b.org.id } });
        expect(r.data?.[field] ?? null, label(who, op)).toBeNull();
        expect(codesOf(r).length, label(who, op)).toBeGreaterThan(0);
        expect(codesOf(r).filter((c) => !REFUSALS.has(c ?? '')), label(who, op)).toEqual([]);
        const text = JSON.stringify(r);
        expect(forbidden.filter((v) => text.includes(v)), `${label(who, op)} leaked`).toEqual([]);
      }
    }
    expect(await snapshotTenant(world, b.org.id), `B's rows after A's ${field}`).toEqual(before);
  });
});

describe('the rightful caller, on a tenant of its own', () => {
  it.each(MUTATIONS)('%s gets past authorization with the same generated arguments, and what succeeds shows in the snapshot', async (field) => {
    const c = await seedDistinctTenant(world, url, `C-${field}`, FIGURES);
    const operations = walkOf((await tenantFingerprint(world, c)).targets, field);
    // Whoever may run it: the organization's owner, else a platform admin, else the invitee answering.
    const callers = [{ who: 'owner', auth: c.ownerToken }, { who: 'platform admin', auth: world.adminToken }, { who: 'invitee', auth: c.pendingInviteeToken }];
    for (const { who, auth } of callers) {
      const before = await snapshotTenant(world, c.org.id);
      const results: GqlResult[] = [];
      for (const op of operations) {
        const r = await gql(url, op.text, op.variables, { auth });
        expect(codesOf(r), label(who, op)).not.toContain('INTERNAL_SERVER_ERROR');
        results.push(r);
      }
      if (results.every((r) => codesOf(r).some((code) => REFUSALS.has(code ?? '')))) continue;
      if (results.some((r) => !r.errors)) expect(await snapshotTenant(world, c.org.id), `${who}'s ${field} changed nothing`).not.toEqual(before);
      return;
    }
    expect.fail(`nobody got ${field} past authorization: are its generated arguments right?`);
  });
});
