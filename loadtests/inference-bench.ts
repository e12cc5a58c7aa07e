/**
 * Inference proxy benchmark: direct-to-simulator vs through CIC (auth, rate limit, metering on), streaming
 * chat completions of 64 tokens with zero token delay. Starts its own Postgres, Redis, simulator and API
 * on loopback, runs bounded request counts and prints a markdown table. The targets take turns, round after
 * round, and each figure is the median over the rounds, so a burst of load from elsewhere on the machine
 * does not decide the comparison.
 *
 *   npx tsx loadtests/inference-bench.ts [--requests-c1 N] [--requests-c64 N] [--rounds N]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createPrismaClient } from '@cic/db';
import { generateKey } from '@cic/core/api-keys/key-format';
import { postLedgerEntry } from '@cic/core/billing/ledger';
import { startLocalStores } from './src/local-stores.ts';
import { spawnApi, spawnListening, spawnSimulator } from './src/processes.ts';
import { measureStream, type StreamLoadResult } from './src/inference-bench/measure-stream.ts';

const { values } = parseArgs({
  options: { 'requests-c1': { type: 'string', default: '500' }, 'requests-c64': { type: 'string', default: '3000' }, rounds: { type: 'string', default: '3' } },
});
const C1 = Number(values['requests-c1']);
const C64 = Number(values['requests-c64']);
const ROUNDS = Number(values.rounds);
const MODEL = 'bench/sim-64';

const children: { stop(): Promise<void> }[] = [];
const log = (m: string) => console.error(`[bench] ${m}`);

try {
  const stores = await startLocalStores();
  children.push(stores);
  const sim = await spawnSimulator('simulator', ['--model', MODEL, '--ttft-ms', '0', '--ttft-spread-ms', '0', '--itl-ms', '0', '--itl-spread-ms', '0', '--output-tokens', '64', '--max-num-seqs', '256']);
  children.push(sim);

  const prisma = createPrismaClient({ databaseUrl: stores.databaseUrl, poolSize: 2 });
  // The bench key's limits must never bind, so the organization's ceilings are lifted with them.
  const org = await prisma.organization.create({ data: { name: 'Bench', slug: 'bench', maxRpm: 100_000_000, maxTpm: 2_000_000_000, billingAccount: { create: {} } } });
  // Credits, so a credit gate wired by billing admits the benchmark's requests (its check stays on the path).
  await postLedgerEntry(prisma, { organizationId: org.id, type: 'ADJUSTMENT', amountMicros: 1_000_000_000n, sourceId: 'bench-grant', description: 'Benchmark credit' });
  const model = await prisma.servedModel.create({ data: { name: MODEL } });
  await prisma.node.create({ data: { provider: 'STATIC', clusterName: 'bench-sim', modelId: model.id, endpointUrl: sim.url, status: 'READY' } });
  const key = generateKey();
  await prisma.apiKey.create({ data: { organizationId: org.id, name: 'bench', prefix: key.prefix, secretHash: key.secretHash, rpmLimit: 100_000_000, tpmLimit: 2_000_000_000 } });
  await prisma.$disconnect();

  const bare = await spawnListening('bare-proxy', 'loadtests/src/inference-bench/bare-proxy.ts', [sim.url]);
  children.push(bare);
  const api = await spawnApi('api', { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, SESSION_TOKEN_SECRET: randomBytes(32).toString('hex') });
  children.push(api);
  log(`simulator ${sim.url}, api ${api.url}`);

  const targets = { direct: sim.url, bare: bare.url, cic: api.url };
  type Target = keyof typeof targets;
  const run = (target: Target, concurrency: number, requests: number): Promise<StreamLoadResult> =>
    measureStream({ url: targets[target], apiKey: target === 'cic' ? key.secret : undefined, model: MODEL, concurrency, requests });

  log('warming up');
  for (const t of ['direct', 'bare', 'cic'] as const) {
    await run(t, 1, 200);
    await run(t, 64, 1000);
  }
  const rounds: Record<'c1' | 'c64', Record<Target, StreamLoadResult[]>> = { c1: { direct: [], bare: [], cic: [] }, c64: { direct: [], bare: [], cic: [] } };
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round}/${ROUNDS}: ${C1} requests per target at concurrency 1, ${C64} at concurrency 64`);
    for (const t of ['direct', 'bare', 'cic'] as const) rounds.c1[t].push(await run(t, 1, C1));
    for (const t of ['direct', 'bare', 'cic'] as const) rounds.c64[t].push(await run(t, 64, C64));
  }
  const median = (list: StreamLoadResult[]): StreamLoadResult => {
    const mid = (pick: (r: StreamLoadResult) => number) => list.map(pick).sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
    return { requests: mid((r) => r.requests), errors: list.reduce((n, r) => n + r.errors, 0), seconds: mid((r) => r.seconds), rps: mid((r) => r.rps), ttftP50Ms: mid((r) => r.ttftP50Ms), ttftP99Ms: mid((r) => r.ttftP99Ms) };
  };
  const c1 = { direct: median(rounds.c1.direct), bare: median(rounds.c1.bare), cic: median(rounds.c1.cic) };
  const c64 = { direct: median(rounds.c64.direct), bare: median(rounds.c64.bare), cic: median(rounds.c64.cic) };
  log(`c=64 req/s per round: ${(['direct', 'bare', 'cic'] as const).map((t) => `${t} ${rounds.c64[t].map((r) => r.rps.toFixed(0)).join('/')}`).join(', ')}`);

  const f = (n: number) => n.toFixed(2);
  const signed = (n: number) => `${n >= 0 ? '+' : '−'}${f(Math.abs(n))}`;
  const added = (t: Target, pick: (r: StreamLoadResult) => number, set: Record<Target, StreamLoadResult>) => `${f(pick(set[t]))} (${signed(pick(set[t]) - pick(set.direct))})`;
  const share = (t: Target) => `${c64[t].rps.toFixed(0)} (${((100 * c64[t].rps) / c64.direct.rps).toFixed(1)} %)`;
  console.log(`| median of ${ROUNDS} rounds (streaming, 64 tokens) | direct to simulator | bare node:http pass-through | through CIC |`);
  console.log(`|---|---|---|---|`);
  console.log(`| TTFT p50 at c=1, ms (added) | ${f(c1.direct.ttftP50Ms)} | ${added('bare', (r) => r.ttftP50Ms, c1)} | ${added('cic', (r) => r.ttftP50Ms, c1)} |`);
  console.log(`| TTFT p99 at c=1, ms (added) | ${f(c1.direct.ttftP99Ms)} | ${added('bare', (r) => r.ttftP99Ms, c1)} | ${added('cic', (r) => r.ttftP99Ms, c1)} |`);
  console.log(`| req/s at c=64 (share of direct) | ${c64.direct.rps.toFixed(0)} | ${share('bare')} | ${share('cic')} |`);
  console.log(`| TTFT p99 at c=64, ms (added) | ${f(c64.direct.ttftP99Ms)} | ${added('bare', (r) => r.ttftP99Ms, c64)} | ${added('cic', (r) => r.ttftP99Ms, c64)} |`);
  console.log(`| errors | ${c1.direct.errors + c64.direct.errors} | ${c1.bare.errors + c64.bare.errors} | ${c1.cic.errors + c64.cic.errors} |`);
  console.log(`\nTargets: added TTFT p50 at c=1 <= 1.5 ms; req/s at c=64 >= 50 % of direct.`);
} finally {
  for (const c of children.reverse()) await c.stop().catch(() => undefined);
}
