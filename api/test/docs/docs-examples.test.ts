// The docs are executable: every fenced code block of README.md and docs/*.md is run here against a
// started stack, as a reader pastes it, with what `npm start` prints: the bootstrap key (made by
// `npx cic bootstrap --demo-model`, as npm start does) in $CIC_API_KEY and the API at the printed URL,
// with a simulated node serving cic/sim-echo-1. A block that is not meant to be run here (a diagram,
// a Kubernetes command, a log excerpt) says so in an HTML comment on the line before it:
//   <!-- not run: why -->
// and this test fails for any block that is neither run nor marked, so a new example cannot go untested.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { signSessionToken } from '@cic/core/auth/session-token';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { createSimulator, type Simulator } from '@cic/vllm-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/test-api.ts';
import { cic, ROOT } from '../cli/run-cic.ts';

const PRINTED_API = 'http://127.0.0.1:4000';
const SESSION_TOKEN_SECRET = 'docs-examples-session-secret-0123456789';
const RUN_DIR = join(ROOT, 'api/test/docs/.run');

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
  /** The reason from a `<!-- not run: … -->` comment on the line before the block. */
  notRun?: string;
}

/** Every fenced block of the README and docs/*.md, with its marker if it has one. */
function docsBlocks(): Block[] {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  const blocks: Block[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(\S*)\s*$/.exec(lines[i]!);
      if (!open) continue;
      const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
      // `<!-- rendered by <test> -->` marks a block another test compares with what the code prints.
      const marker = /^<!-- (?:not run: (.+)|rendered by (\S+)) -->$/.exec(lines[i - 1] ?? '');
      const notRun = marker?.[1] ?? (marker?.[2] ? `compared with the code's output by ${marker[2]}` : undefined);
      blocks.push({ file, line: i + 1, lang: open[1]!, code: lines.slice(i + 1, end).join('\n'), notRun });
      i = end;
    }
  }
  return blocks;
}

const blocks = docsBlocks();
let db: TestDatabase;
let sim: Simulator;
let api: Awaited<ReturnType<typeof startTestApi>>;
let env: Record<string, string>;
let organizationId: string;
let adminSession: string;

/** Runs a command with the reader's environment; resolves with its exit code and output. */
function run(command: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The block as the reader's terminal sees it: the printed URL is this stack's. */
const localized = (code: string) => code.replaceAll(PRINTED_API, api.url).replaceAll(PRINTED_API.replace('http', 'ws'), api.url.replace('http', 'ws'));

beforeAll(async () => {
  db = await createTestDatabase();
  const redis = testRedis();
  sim = await createSimulator({ model: 'cic/sim-echo-1', ttftMs: 0, itlMs: 0 });
  const cliEnv = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_CHANNEL_PREFIX: redis.prefix };
  const boot = await cic(['bootstrap', '--admin-email', 'admin@cic.local', '--demo-model'], cliEnv);
  expect(boot.code, boot.stderr).toBe(0);
  const key = /: (cic_\S+) {2}\(new/.exec(boot.stdout)![1]!;
  organizationId = /owns organization (\S+)/.exec(boot.stdout)![1]!;
  const adminId = /platform admin \S+ \((\S+)\)/.exec(boot.stdout)![1]!;
  adminSession = await signSessionToken({ userId: adminId, secret: SESSION_TOKEN_SECRET, ttlSeconds: 300 });
  const model = await db.prisma.servedModel.findUniqueOrThrow({ where: { name: 'cic/sim-echo-1' } });
  await db.prisma.node.create({ data: { provider: 'STATIC', clusterName: 'docs-sim', modelId: model.id, endpointUrl: sim.url, status: 'READY' } });
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url, redisPrefix: redis.prefix, env: { SESSION_TOKEN_SECRET } });
  env = { ...cliEnv, CIC_API_KEY: key, SESSION_TOKEN_SECRET };
  mkdirSync(RUN_DIR, { recursive: true });
});
afterAll(async () => {
  rmSync(RUN_DIR, { recursive: true, force: true });
  await api?.stop();
  await sim?.close();
  await db?.drop();
});

describe('the examples in README.md and docs/*.md', { timeout: 60_000 }, () => {
  it('every block is run below or says why not', () => {
    const unmarked = blocks.filter((b) => !b.notRun && !['sh', 'bash', 'ts', 'graphql'].includes(b.lang));
    expect(unmarked.map((b) => `${b.file}:${b.line} (${b.lang || 'no language'})`)).toEqual([]);
    expect(blocks.filter((b) => !b.notRun).length).toBeGreaterThanOrEqual(6);
  });

  for (const block of blocks.filter((b) => !b.notRun)) {
    it(`${block.file}:${block.line} (${block.lang}) works as written`, async () => {
      if (block.lang === 'sh' || block.lang === 'bash') {
        const { code, out } = await run('bash', ['-euo', 'pipefail', '-c', localized(block.code)]);
        expect(code, out).toBe(0);
        expect(out, 'an error answer').not.toMatch(/"errors?"\s*:/);
        if (block.code.includes('stream":true')) expect(out).toContain('data: [DONE]');
      } else if (block.lang === 'ts') {
        const file = join(RUN_DIR, `${block.file.replace(/\W/g, '-')}-${block.line}.mts`);
        writeFileSync(file, localized(block.code));
        const { code, out } = await run(process.execPath, ['--import', 'tsx', file]);
        expect(code, out).toBe(0);
      } else {
        await runGraphQLBlock(block.code);
      }
    });
  }
});

/**
 * A reference list of operations, one per paragraph or line: each must be valid against the committed
 * schema, and each query must answer without errors for the bootstrap admin (signed in: a session token
 * as in the block above; `org_…` stands for their organization). Mutations are validated only: their
 * ids are placeholders.
 */
async function runGraphQLBlock(code: string): Promise<void> {
  const schema = buildSchema(readFileSync(join(ROOT, 'api/schema.graphql'), 'utf8'));
  const operations = code.split('\n').filter((l) => !l.startsWith('#')).join('\n').split(/\n(?=query|mutation|subscription)/).map((o) => o.trim()).filter(Boolean);
  expect(operations.length).toBeGreaterThan(1);
  for (const operation of operations) {
    expect(validate(schema, parse(operation)).map((e) => e.message), operation).toEqual([]);
    if (!operation.startsWith('query')) continue;
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminSession}` },
      body: JSON.stringify({ query: operation.replaceAll('org_…', organizationId), variables: { from: new Date(Date.now() - 7 * 86_400_000).toISOString() } }),
    });
    const body = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    expect(body.errors?.map((e) => `${e.extensions?.code}: ${e.message}`) ?? [], operation).toEqual([]);
  }
}
