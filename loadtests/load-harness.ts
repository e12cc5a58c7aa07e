// The platform under load, on one machine: two API instances behind a loopback balancer, several
// simulated vLLM nodes, real Postgres and Redis, auth + rate limits + metering on. An open-loop mixed
// streaming/non-streaming load at a target rate over several keys; one key is pushed over its limit;
// one node is killed mid-run. Writes loadtests/reports/latest/{report.md,*.svg}.
//
//   npx tsx loadtests/load-harness.ts [--rate 1000] [--duration 20] [--apis 2] [--nodes 3] [--kill-at 10]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './src/harness/load.ts';
import { repoRoot } from './src/processes.ts';
import { renderReport } from './src/harness/report.ts';
import { startStack } from './src/harness/stack.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '20' },
    apis: { type: 'string', default: '2' },
    nodes: { type: 'string', default: '3' },
    'kill-at': { type: 'string', default: '10' },
    'max-tokens': { type: 'string', default: '16' },
    out: { type: 'string', default: join(repoRoot, 'loadtests/reports/latest') },
  },
});
const rate = Number(values.rate);
const duration = Math.min(120, Number(values.duration));
const killAt = Number(values['kill-at']);
const maxTokens = Number(values['max-tokens']);
// One key is held to a small limit and sent 5× faster than it allows, so a run shorter than the
// one-minute window shows the limiter admitting exactly the limit and refusing the rest.
const OVER_LIMIT_RPM = 120;
const OVER_LIMIT_SEND_PER_SECOND = 10;
const WARMUP_SECONDS = 5;

const stack = await startStack({
  apiInstances: Number(values.apis),
  simulators: Number(values.nodes),
  simulatorArgs: ['--ttft-ms', '20', '--ttft-spread-ms', '5', '--itl-ms', '2', '--itl-spread-ms', '1', '--output-tokens', String(maxTokens), '--max-num-seqs', '256', '--max-waiting', '4096'],
  keys: [
    ...Array.from({ length: 6 }, (_, i) => ({ name: `tenant-${i}`, rpm: 1_000_000, tpm: 100_000_000 })),
    { name: 'over-limit', rpm: OVER_LIMIT_RPM, tpm: 100_000_000 },
  ],
});

const openCircuits: [number, number][] = [];
async function scrapeCircuits(second: number) {
  let open = 0;
  for (const url of stack.apiUrls) {
    try {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1_000) })).text();
      open += text.split('\n').filter((l) => l.startsWith('cic_circuit_state{') && l.trim().endsWith(' 2')).length;
    } catch {}
  }
  openCircuits.push([second, open]);
}

let killed: number | null = null;
try {
  console.log(`[harness] ${stack.apiUrls.length} API instances, ${stack.simulators.length} nodes; ${rate} req/s for ${duration} s`);
  const overShare = OVER_LIMIT_SEND_PER_SECOND;
  const tenants = stack.keys.filter((k) => k.name !== 'over-limit').map((k) => ({ name: k.name, secret: k.secret, weight: (rate - overShare) / 6 }));
  // Warm-up (not measured): JIT, connection pools and caches settle, as in any long-running deployment.
  console.log(`[harness] warming up for ${WARMUP_SECONDS} s`);
  await runLoad({ baseUrl: stack.baseUrl, model: stack.model, keys: tenants, ratePerSecond: rate, durationSeconds: WARMUP_SECONDS, streamShare: 0.5, maxTokens });
  const result = await runLoad({
    baseUrl: stack.baseUrl,
    model: stack.model,
    keys: [...tenants, { name: 'over-limit', secret: stack.keys.find((k) => k.name === 'over-limit')!.secret, weight: overShare }],
    ratePerSecond: rate,
    durationSeconds: duration,
    streamShare: 0.5,
    maxTokens,
    onSecond: async (second) => {
      if (second === killAt && stack.simulators.length > 1) {
        killed = second;
        console.log(`[harness] second ${second}: killing node ${stack.simulators[0]!.nodeId} (SIGKILL)`);
        await stack.simulators[0]!.stop('SIGKILL');
      }
      void scrapeCircuits(second);
    },
  });
  const { markdown, charts } = renderReport(result, {
    title: `CIC load test: ${rate} req/s target, ${stack.apiUrls.length} API instances, ${stack.simulators.length} simulated nodes`,
    config: {
      date: new Date().toISOString(),
      machine: '2 cores, 24 GiB; load generator, API instances, simulators, Postgres and Redis all on it',
      'target rate': `${rate} req/s for ${duration} s (open loop), after a ${WARMUP_SECONDS} s warm-up at the same rate that is not measured`,
      mix: '50% streamed, 50% not; chat completions, max_tokens ' + maxTokens,
      keys: `6 keys within limits + 1 key sent ${OVER_LIMIT_SEND_PER_SECOND} req/s against a ${OVER_LIMIT_RPM} RPM limit`,
      nodes: `simulator: TTFT 20±5 ms, ITL 2±1 ms, ${maxTokens} tokens; node 1 killed at second ${killAt}`,
    },
    killedAtSecond: killed,
    openCircuits,
    overLimitKey: 'over-limit',
    overLimitRpm: OVER_LIMIT_RPM,
    notes: [
      'All processes share 2 cores, so the figures measure the whole platform plus its load generator on one small machine, not the gateway alone; the gateway-only overhead against a direct baseline is in loadtests/inference-bench.ts.',
      'When the target rate exceeds what the machine sustains, the open-loop generator keeps sending on schedule and latency grows; "sustained completed req/s" is the honest throughput figure.',
      'Requests to the killed node that had not sent a byte are retried on another node; streams cut mid-way end with an error event (counted as errors above).',
    ],
  });
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(join(values.out!, 'report.md'), markdown);
  for (const [name, svg] of Object.entries(charts)) writeFileSync(join(values.out!, name), svg);
  console.log(markdown);
} finally {
  await stack.stop();
}
process.exit(0);
