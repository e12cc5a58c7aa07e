// A real model as far as this machine allows (docs/jobs.md, "A real model, end to end"): the catalog entry
// added with the admin CLI exactly as the docs show it, a vLLM stand-in started as `vllm serve` would be
// (`--served-model-name Qwen/Qwen2.5-7B-Instruct`, its own `--api-key`) and registered as a STATIC node through
// GraphQL, a chat completion streamed through CIC with the official openai SDK; then a SKYPILOT launch of the
// same model against the fake `sky`, whose received task must be the one the docs print.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNodeConfig } from '@cic/core/nodes/node-config';
import { createGraphQLWorld, eventually, gql } from '../../api/test/graphql/graphql-fixture.ts';
import { cic } from '../../api/test/cli/run-cic.ts';
import { renderTask } from '../src/providers/skypilot/render-task.ts';
import { docsBlock, docsBlockInFile, EXAMPLE_CLUSTER, QWEN, QWEN_ADD_ARGS, renderQwenTask } from '../scripts/model-task-example.ts';
import { fakeSkyState, NODE_SECRET_KEY, startTestWorkers, testConfig, waitForStatus } from './harness.ts';

const SIM_KEY = 'static-node-key-of-the-operator';
const SIMULATOR_BIN = createRequire(import.meta.url).resolve('@cic/vllm-sim/bin');
const LAUNCH = 'mutation($i: LaunchNodeInput!) { launchNode(input: $i) { id status accelerator } }';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let workers: ReturnType<typeof startTestWorkers>;
let api: Awaited<ReturnType<typeof world.startApi>>;
let sim: ChildProcess;
let simUrl: string;
const sky = fakeSkyState();

/** The simulator's bin, started the way an operator starts `vllm serve`; resolves with its URL. */
function startSimulator(): Promise<string> {
  sim = spawn(process.execPath, [SIMULATOR_BIN, '--host', '127.0.0.1', '--port', '0', '--served-model-name', QWEN.name, '--api-key', SIM_KEY, '--max-model-len', String(QWEN.maxModelLen)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    sim.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
    createInterface({ input: sim.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { event?: string; url?: string };
      if (message.event === 'listening' && message.url) resolve(message.url);
    });
  });
}

beforeAll(async () => {
  world = await createGraphQLWorld();
  // The workers pass HF_TOKEN to SkyPilot nodes by name, from their own environment.
  process.env.HF_TOKEN = 'hf_test_token';
  workers = startTestWorkers({ ...testConfig(world.db.url, {}, world.redis.url), BULLMQ_PREFIX: world.bullPrefix, REDIS_CHANNEL_PREFIX: world.redis.prefix });
  await workers.start();
  api = await world.startApi({ NODE_SECRET_KEY, USAGE_WRITER_ENABLED: 'true' });
  simUrl = await startSimulator();
});
afterAll(async () => {
  sim?.kill('SIGTERM');
  await workers?.stop();
  await world?.close();
  sky.remove();
  delete process.env.HF_TOKEN;
});

describe('a Hugging Face model from the catalog to a streamed completion', { timeout: 240_000 }, () => {
  it('npx cic models add (as the docs show it), a STATIC node on a server serving that name, a stream through CIC with the openai SDK', async () => {
    const env = { DATABASE_URL: world.db.url, REDIS_URL: world.redis.url, REDIS_CHANNEL_PREFIX: world.redis.prefix };
    const added = await cic(QWEN_ADD_ARGS, env);
    expect(added.code, added.stderr).toBe(0);
    const tenant = await world.tenant('Buyer');
    const key = await cic(['keys', 'create', tenant.org.slug, '--name', 'sdk', '--scopes', 'inference'], env);
    expect(key.code, key.stderr).toBe(0);

    const launched = await gql<{ launchNode: { id: string; accelerator: string } }>(api.url, LAUNCH, {
      i: { model: QWEN.name, provider: 'STATIC', config: { baseUrl: simUrl, apiKey: SIM_KEY } },
    }, { auth: world.adminToken });
    expect(launched.errors).toBeUndefined();
    expect(launched.data!.launchNode.accelerator).toBe(QWEN.accelerator);
    expect((await waitForStatus(world.prisma, launched.data!.launchNode.id, ['READY', 'FAILED'])).status).toBe('READY');

    const client = new OpenAI({ apiKey: key.stdout.trim(), baseURL: `${api.url}/v1`, maxRetries: 0 });
    // The proxy's registry hears READY on the bus (and re-reads every second).
    let listed: OpenAI.Models.Model[] = [];
    while (!(listed = (await client.models.list()).data).some((m) => m.id === QWEN.name)) await new Promise((r) => setTimeout(r, 100));
    expect(listed.find((m) => m.id === QWEN.name)).toMatchObject({ max_model_len: QWEN.maxModelLen });

    const stream = await client.chat.completions.create({
      model: QWEN.name, stream: true, stream_options: { include_usage: true }, max_tokens: 16,
      messages: [{ role: 'user', content: 'Say hello to the real model' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.model).toBe(QWEN.name);
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    const record = await eventually(() => world.prisma.usageRecord.findFirst({ where: { modelName: QWEN.name, organizationId: tenant.org.id } }));
    expect(record).toMatchObject({ stream: true, status: 200, outcome: 'SUCCESS', nodeId: launched.data!.launchNode.id, completionTokens: usage!.completion_tokens });
  });

  it('a SKYPILOT node of the model gets the model\'s launch defaults: `sky launch` receives the task docs/jobs.md prints', async () => {
    const launched = await gql<{ launchNode: { id: string } }>(api.url, LAUNCH, { i: { model: QWEN.name, provider: 'SKYPILOT' } }, { auth: world.adminToken });
    expect(launched.errors).toBeUndefined();
    const node = await world.prisma.node.findUniqueOrThrow({ where: { id: launched.data!.launchNode.id } });
    let received;
    while (!(received = sky.clusters().find((c) => c.name === node.clusterName))) await new Promise((r) => setTimeout(r, 100));

    // What the workers rendered for this node (the provider's call) is what sky received…
    const rendered = renderTask({ cluster: node.clusterName, servedModelName: QWEN.name, accelerator: node.accelerator, cloud: node.cloud, region: node.region, secretNames: ['HF_TOKEN'], config: parseNodeConfig(node.config) });
    expect(parse(rendered, { version: '1.1' })).toEqual(received.task);
    expect(received.task).toMatchObject({
      resources: { accelerators: QWEN.accelerator },
      envs: { MODEL_SOURCE: QWEN.source, SERVED_MODEL_NAME: QWEN.name, VLLM_ARGS: QWEN.vllmArgs.join(' ') },
      secrets: { VLLM_API_KEY: null, HF_TOKEN: null },
    });
    expect(received.task!.run).toContain('--served-model-name "$SERVED_MODEL_NAME"');
    // …and, but for the cluster's random suffix, the task the docs print, which the script writes there.
    expect(rendered.replaceAll(node.clusterName, EXAMPLE_CLUSTER)).toBe(renderQwenTask());
    expect(docsBlockInFile(), 'run `npx tsx jobs/scripts/model-task-example.ts`').toBe(docsBlock());
    await waitForStatus(world.prisma, node.id, ['STARTING', 'READY', 'UNHEALTHY', 'FAILED']);
  });
});
