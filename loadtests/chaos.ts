// The chaos suite: the platform under load (two API instances behind a loopback balancer, simulated nodes,
// Postgres, Redis with an append-only file) and one fault at a time. Per fault it counts what the clients
// saw against the usage records in Postgres: lost and doubled records, tokens, errors, time to recover.
// Writes loadtests/reports/chaos/report.md; exits 1 when a fault lost or doubled a record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createPrismaClient } from '@cic/db';
import { account, settle } from './src/chaos/accounting.ts';
import { apiStop } from './src/chaos/api-stop.ts';
import { runChaosLoad } from './src/chaos/chaos-load.ts';
import { faultRow, renderChaosReport, runPassed, type FaultRun } from './src/chaos/chaos-report.ts';
import type { Fault, FaultContext } from './src/chaos/fault.ts';
import { postgresDown } from './src/chaos/postgres-down.ts';
import { redisKill } from './src/chaos/redis-kill.ts';
import { CHAOS_WEBHOOK_SECRET, webhookStorm } from './src/chaos/webhook-storm.ts';
import { startStack } from './src/harness/stack.ts';
import { repoRoot } from './src/processes.ts';

const FAULTS: Record<string, () => Fault> = {
  'api-sigterm': () => apiStop('SIGTERM'),
  'api-kill9': () => apiStop('SIGKILL'),
  'redis-kill9': () => redisKill,
  'postgres-down': () => postgresDown,
  'webhook-storm': webhookStorm,
};

const USAGE = `npm run chaos -w @cic/loadtests -- [--faults ${Object.keys(FAULTS).join(',')}] [--rate 150] [--max-tokens 16] [--out DIR]

Starts the platform on 127.0.0.1 (2 API instances, 2 simulated nodes, Postgres, Redis with AOF), then per
fault runs 15-20 s of load at --rate req/s, injects the fault, waits for the usage records and
prints one row: requests, records, lost/doubled, tokens at clients vs in the database, errors by
status, time to recover. Writes DIR/report.md (default loadtests/reports/chaos). Exit 1 if the bar
(0 lost, 0 doubled, webhook credits exactly once) is not met.`;

const { values } = parseArgs({
  options: {
    faults: { type: 'string', default: Object.keys(FAULTS).join(',') },
    rate: { type: 'string', default: '150' },
    'max-tokens': { type: 'string', default: '16' },
    out: { type: 'string', default: join(repoRoot, 'loadtests/reports/chaos') },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const names = values.faults.split(',').map((n) => n.trim()).filter(Boolean);
const unknown = names.filter((n) => !(n in FAULTS));
if (unknown.length || names.length === 0) {
  console.error(`unknown fault ${unknown.join(', ') || '(none given)'}\n\n${USAGE}`);
  process.exit(2);
}
// Bounded: at most 500 req/s (the machine is small; the suite is about correctness, not throughput).
const rate = Math.min(500, Number(values.rate));
const maxTokens = Math.min(64, Number(values['max-tokens']));
const log = (message: string) => console.log(`[chaos] ${message}`);
const started = new Date();
const loadAtStart = loadavg()[0]!;

const stack = await startStack({
  apiInstances: 2,
  simulators: 2,
  simulatorArgs: ['--ttft-ms', '20', '--ttft-spread-ms', '5', '--itl-ms', '5', '--itl-spread-ms', '2', '--output-tokens', String(maxTokens), '--max-num-seqs', '256', '--max-waiting', '4096'],
  keys: [{ name: 'chaos', rpm: 1_000_000, tpm: 100_000_000 }],
  apiEnv: { STRIPE_WEBHOOK_SECRET: CHAOS_WEBHOOK_SECRET },
  durableRedis: true,
});
const prisma = createPrismaClient({ databaseUrl: stack.stores.databaseUrl, poolSize: 2 });
const ctx: FaultContext = { stack, prisma, log };
const runs: FaultRun[] = [];
try {
  const load = (idPrefix: string, durationSeconds: number, onSecond?: (second: number) => void) =>
    runChaosLoad({ baseUrl: stack.baseUrl, model: stack.model, secret: stack.keys[0]!.secret, idPrefix, ratePerSecond: rate, durationSeconds, maxTokens, onSecond });
  log(`warming up for 3 s at ${rate} req/s`);
  await load(`chaos-warmup-${Date.now()}`, 3);
  for (const name of names) {
    const fault = FAULTS[name]!();
    const idPrefix = `chaos-${fault.name}-${Date.now()}`;
    log(`${fault.name}: ${fault.durationSeconds} s of load, fault at second ${fault.atSecond}`);
    let struck: Promise<void> | undefined;
    let faultAt = fault.atSecond;
    const loadStart = performance.now();
    const result = await load(idPrefix, fault.durationSeconds, (second) => {
      if (second !== fault.atSecond || struck) return;
      faultAt = (performance.now() - loadStart) / 1000;
      // Not awaited: the load keeps its schedule while the fault runs and the platform is put back.
      struck = fault.strike(ctx);
    });
    await struck;
    const admitted = new Set(result.samples.filter((s) => s.admitted).map((s) => s.requestId));
    const { rows, settleSeconds } = await settle(prisma, idPrefix, admitted, fault.settleSeconds.min, fault.settleSeconds.max);
    const run: FaultRun = { fault, accounts: account(result.samples, rows, faultAt, settleSeconds), dropped: result.dropped, verdict: await fault.check?.(ctx) };
    runs.push(run);
    log(`${runPassed(run) ? 'PASS' : 'FAIL'} ${faultRow(run).join(' | ')}${run.verdict ? `\n        ${run.verdict.summary}` : ''}`);
  }
} finally {
  await prisma.$disconnect().catch(() => undefined);
  await stack.stop();
}

const markdown = renderChaosReport(
  runs,
  {
    date: started.toISOString(),
    machine: `2 cores shared with other work (1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end); load generator, 2 API instances, 2 simulators, Postgres and Redis all on it, loopback only`,
    load: `${rate} req/s open loop, chat completions, every other one streamed (with include_usage), max_tokens ${maxTokens}, one key; a 3 s warm-up before the first fault (not counted)`,
    nodes: `2 simulated vLLM nodes: TTFT 20±5 ms, ITL 5±2 ms, ${maxTokens} tokens`,
    stores: 'Postgres with fsync off (a private temp cluster; it is only ever stopped cleanly here); Redis with appendonly yes, appendfsync everysec',
    command: `npm run chaos -w @cic/loadtests -- --faults ${names.join(',')} --rate ${rate}`,
  },
  [
    'Faults run one after another on the same stack; each fault\'s requests carry their own x-request-id prefix, so its records are counted apart.',
    'The balancer skips a backend that refuses connections (as one with health checks would); keep-alive connections open to a killed instance are cut, which shows as "no answer".',
  ],
);
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'report.md'), markdown);
console.log(markdown);
process.exit(runs.every(runPassed) ? 0 : 1);
