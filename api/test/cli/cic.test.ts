// The admin CLI as operators run it: the bin npm links (`npx cic`), spawned against a fresh database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@cic/db';
import { keyMatchesHash } from '@cic/core/api-keys/key-format';
import { cic, freshDatabase } from './run-cic.ts';

const db = freshDatabase();
let env: Record<string, string>;
let prisma: PrismaClient;

beforeAll(async () => {
  env = { DATABASE_URL: db.url };
  prisma = createPrismaClient({ databaseUrl: db.url, poolSize: 2 });
});
afterAll(async () => {
  await prisma?.$disconnect();
  await db.drop();
});

const HF = 'Qwen/Qwen2.5-7B-Instruct';

// Each case spawns the CLI (tsx, Prisma): seconds apiece on a loaded machine.
describe('cic', { timeout: 180_000 }, () => {
  it('documents itself: --help lists the commands, each command has its usage, no command is a usage error', async () => {
    const help = await cic(['--help'], {});
    expect(help.code).toBe(0);
    for (const command of ['migrate', 'bootstrap', 'models', 'orgs', 'keys']) expect(help.stdout).toContain(`  ${command} `);
    const models = await cic(['models', '--help'], {});
    expect(models).toMatchObject({ code: 0, stdout: expect.stringContaining('cic models set-price NAME') });
    expect((await cic([], {})).code).toBe(2);
    const unknown = await cic(['launch-rockets'], env);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "launch-rockets"') });
  });

  it('refuses a missing or bad DATABASE_URL, naming it', async () => {
    expect(await cic(['migrate'], {})).toMatchObject({ code: 2, stderr: expect.stringContaining('DATABASE_URL') });
    expect(await cic(['models', 'list'], { DATABASE_URL: 'mysql://x' })).toMatchObject({ code: 2, stderr: expect.stringContaining('DATABASE_URL') });
  });

  it('migrate creates and migrates the database once; a re-run applies nothing', async () => {
    const first = await cic(['migrate'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('created the database');
    expect(first.stdout).toMatch(/applied migrations: .*_init.*_model_catalog/);
    expect(await cic(['migrate'], env)).toMatchObject({ code: 0, stdout: 'database schema up to date\n' });
  });

  it('bootstrap refuses bad input before touching anything', async () => {
    expect(await cic(['bootstrap'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('give --admin-email (or set BOOTSTRAP_ADMIN_EMAIL)') });
    expect(await cic(['bootstrap', '--admin-email', 'not-an-email'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('--admin-email: expected an email address') });
    expect(await cic(['bootstrap', '--admin-email', 'ops@example.com', '--api-key', 'sk-live-123'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('--api-key: expected a CIC key') });
    expect(await cic(['bootstrap', '--admin-email', 'ops@example.com', '--scopes', 'inference,root'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('--scopes') });
    expect(await cic(['bootstrap', '--admin-email', 'ops@example.com', '--bogus'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") });
    expect(await prisma.user.count()).toBe(0);
  });

  it('bootstrap makes the admin, an organization and a key (printed once), from flags or BOOTSTRAP_* variables, idempotently', async () => {
    const first = await cic(['bootstrap', '--admin-email', 'ops@example.com'], env);
    expect(first.code).toBe(0);
    const secret = /: (cic_\w+)\s+\(new: shown this once\)/.exec(first.stdout)?.[1];
    expect(secret).toBeTruthy();
    const again = await cic(['bootstrap'], { ...env, BOOTSTRAP_ADMIN_EMAIL: 'ops@example.com', BOOTSTRAP_API_KEY: '', BOOTSTRAP_API_KEY_SCOPES: 'inference' });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('exists (its secret was shown when it was created)');
    expect(again.stdout).not.toContain('cic_');
    const admin = await prisma.user.findUniqueOrThrow({ where: { email: 'ops@example.com' }, include: { memberships: true } });
    expect(admin).toMatchObject({ isPlatformAdmin: true, memberships: [{ role: 'OWNER' }] });
    const keys = await prisma.apiKey.findMany();
    expect(keys).toHaveLength(1);
    expect(keyMatchesHash(secret!, keys[0]!.secretHash)).toBe(true);
    expect(keys[0]!.scopes).toEqual(['inference']);
    expect(await prisma.organization.count()).toBe(1);
  });

  it('models add takes a Hugging Face model with prices and launch defaults; re-running it changes nothing', async () => {
    const args = ['models', 'add', HF, '--source', HF, '--max-model-len', '32768', '--prompt-price', '0.2', '--completion-price', '0.6',
      '--accelerator', 'L4:1', '--vllm-arg=--enable-auto-tool-choice', '--vllm-arg=--tool-call-parser', '--vllm-arg=hermes'];
    const added = await cic(args, env);
    expect(added).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^added model ${HF} \\(mdl_\\w+\\)`)) });
    expect(await cic(args, env)).toMatchObject({ code: 0, stdout: expect.stringContaining('unchanged') });
    const model = await prisma.servedModel.findUniqueOrThrow({ where: { name: HF } });
    expect(model).toMatchObject({
      source: HF, maxModelLen: 32768, promptPriceMicros: 200_000n, completionPriceMicros: 600_000n, accelerator: 'L4:1',
      vllmArgs: ['--enable-auto-tool-choice', '--tool-call-parser', 'hermes'], isPublic: true,
    });
    expect(await prisma.auditLog.count({ where: { action: 'model.create', targetId: model.id, actorType: 'SYSTEM', actorId: 'cli' } })).toBe(1);
    expect(await prisma.auditLog.count({ where: { targetId: model.id, action: { not: 'model.create' } } })).toBe(0);
    const listed = await cic(['models', 'list', '--json'], env);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: HF, promptPriceMicros: '200000', organizationIds: [] })]);
    const table = await cic(['models', 'list'], env);
    expect(table.stdout).toMatch(new RegExp(`${HF.replace('.', '\\.')}\\s+yes\\s+public\\s+0\\.2\\s+0\\.6`));
  });

  it('models add limits a model to an organization given by slug, and converges when re-run with other settings', async () => {
    const org = await prisma.organization.findFirstOrThrow();
    const limited = await cic(['models', 'add', 'acme/private-1', '--org', org.slug], env);
    expect(limited.code).toBe(0);
    const row = await prisma.servedModel.findUniqueOrThrow({ where: { name: 'acme/private-1' }, include: { access: true } });
    expect(row.isPublic).toBe(false);
    expect(row.access.map((a) => a.organizationId)).toEqual([org.id]);
    expect(await cic(['models', 'add', 'acme/private-1', '--public', '--max-model-len', '8192'], env)).toMatchObject({ code: 0, stdout: expect.stringContaining('updated') });
    expect(await prisma.servedModel.findUniqueOrThrow({ where: { name: 'acme/private-1' }, include: { access: true } })).toMatchObject({ isPublic: true, maxModelLen: 8192, access: [] });
  });

  it.each([
    [['models', 'add', 'bad name'], 'Invalid name'],
    [['models', 'add', 'ok/model-x', '--prompt-price=-1'], '--prompt-price "-1": expected a non-negative USD amount'],
    [['models', 'add', 'ok/model-x', '--vllm-arg=--chat-template\nrm -rf /'], 'Invalid vllmArgs'],
    [['models', 'add', 'ok/model-x', '--source', 'https://evil.example.com/x'], 'Invalid source'],
    [['models', 'add', 'ok/model-x', '--org', 'no-such-org'], 'no organization with the id or slug "no-such-org"'],
    [['models', 'set-price', 'no/such-model', '--prompt', '1'], 'There is no model "no/such-model"'],
    [['models', 'set-price', HF, '--prompt', '5000'], 'A price must be between 0 and 1,000 USD'],
    [['models', 'frobnicate'], 'unknown models command "frobnicate"'],
  ])('models %j exits 2 with a clear message, changing nothing', async (args, message) => {
    const before = await prisma.servedModel.findMany({ orderBy: { name: 'asc' } });
    const r = await cic(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(await prisma.servedModel.findMany({ orderBy: { name: 'asc' } })).toEqual(before);
  });

  it('models set-price sets USD per million tokens exactly, audited once however often it runs', async () => {
    const set = await cic(['models', 'set-price', HF, '--prompt', '0.25', '--completion', '1.000001'], env);
    expect(set).toMatchObject({ code: 0, stdout: `model ${HF}: prompt 0.25 USD, completion 1.000001 USD per million tokens\n` });
    expect(await cic(['models', 'set-price', HF, '--prompt', '0.25'], env)).toMatchObject({ code: 0, stdout: expect.stringContaining('(unchanged)') });
    const model = await prisma.servedModel.findUniqueOrThrow({ where: { name: HF } });
    expect(model).toMatchObject({ promptPriceMicros: 250_000n, completionPriceMicros: 1_000_001n });
    expect(await prisma.auditLog.count({ where: { action: 'model.update_price', targetId: model.id } })).toBe(1);
  });

  it('orgs grant-credits grants once per command (same amount and reason), and refuses bad amounts', async () => {
    const org = await prisma.organization.findFirstOrThrow({ include: { billingAccount: true } });
    const before = org.billingAccount!.balanceMicros;
    const args = ['orgs', 'grant-credits', org.id, '--usd', '25.5', '--reason', 'pilot customer'];
    expect(await cic(args, env)).toMatchObject({ code: 0, stdout: expect.stringContaining('granted 25.5 USD') });
    expect(await cic(args, env)).toMatchObject({ code: 0, stdout: expect.stringContaining('already granted') });
    const after = await prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: org.id } });
    expect(after.balanceMicros - before).toBe(25_500_000n);
    expect(await prisma.auditLog.count({ where: { action: 'billing.adjust_credits', organizationId: org.id, actorId: 'cli' } })).toBe(1);
    for (const [bad, message] of [[['--usd', 'ten', '--reason', 'x y z'], '--usd "ten"'], [['--usd', '0', '--reason', 'x y z'], 'more than 0'], [['--usd', '5'], 'give --usd and --reason']] as const) {
      expect(await cic(['orgs', 'grant-credits', org.id, ...bad], env)).toMatchObject({ code: 2, stderr: expect.stringContaining(message) });
    }
    expect((await prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: org.id } })).balanceMicros).toBe(after.balanceMicros);
  });

  it('keys create prints a working secret on stdout once; the same name again creates nothing', async () => {
    const org = await prisma.organization.findFirstOrThrow();
    const created = await cic(['keys', 'create', org.slug, '--name', 'ci', '--scopes', 'inference,graphql', '--rpm', '60'], env);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^cic_\w{12}_\w{32}$/);
    const key = await prisma.apiKey.findFirstOrThrow({ where: { organizationId: org.id, name: 'ci' } });
    expect(keyMatchesHash(secret, key.secretHash)).toBe(true);
    expect(key).toMatchObject({ scopes: ['inference', 'graphql'], rpmLimit: 60 });
    const again = await cic(['keys', 'create', org.slug, '--name', 'ci'], env);
    expect(again).toMatchObject({ code: 0, stdout: '', stderr: expect.stringContaining('already has an active key named "ci"') });
    expect(await prisma.apiKey.count({ where: { organizationId: org.id, name: 'ci' } })).toBe(1);
    expect(await cic(['keys', 'create', org.slug, '--name', 'x', '--scopes', 'admin'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('--scopes "admin"') });
    expect(await cic(['keys', 'create', org.slug, '--name', 'x', '--rpm', '999999999'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('ceiling') });
    expect(await cic(['keys', 'create', org.slug], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('--name') });
  });

  it('a database that does not answer is exit 1 with the reason', async () => {
    const r = await cic(['models', 'list'], { DATABASE_URL: 'postgresql://nobody@127.0.0.1:9/none' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cic models: .+/);
  });
});
