import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceWorld, type InferenceWorld } from './inference-fixture.ts';

/* Nodes as real processes: a vLLM simulator killed with SIGKILL mid-answer, as a crashed GPU node would be. */

const repoRoot = resolve(import.meta.dirname, '../../..');
const SIMULATOR_BIN = createRequire(import.meta.url).resolve('@cic/vllm-sim/bin');
const children: ChildProcess[] = [];
let world: InferenceWorld;
let api: Awaited<ReturnType<InferenceWorld['startApi']>>;
let key: string;

async function spawnSimulator(model: string, args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [SIMULATOR_BIN, '--port', '0', '--model', model, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`simulator exited with ${code}`)));
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as { event?: string; url?: string };
      if (msg.event === 'listening' && msg.url) ok(msg.url);
    });
  });
  return { url, child };
}

beforeAll(async () => {
  world = await createInferenceWorld();
  key = (await world.createKey()).secret;
  api = await world.startApi();
});

afterAll(async () => {
  await world?.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('simulator processes as nodes', () => {
  it('serves through a node process, and a node killed mid-stream ends the stream with an error event', async () => {
    const model = 'proc/sim-1';
    const m = await world.addModel(model);
    const sim = await spawnSimulator(model, ['--ttft-ms', '0', '--itl-ms', '30', '--itl-spread-ms', '0', '--output-tokens', '200']);
    const node = await world.addNode(sim.url, { modelId: m.id });
    await world.eventually(async () => api.inference.nodes.nodesFor(model).length > 0);
    const client = new OpenAI({ apiKey: key, baseURL: api.baseURL, maxRetries: 0 });

    const whole = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 });
    expect(whole.usage?.completion_tokens).toBe(5);

    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 200, stream: true });
    let chunks = 0;
    const err = await (async () => {
      for await (const chunk of stream) {
        void chunk;
        if (++chunks === 5) sim.child.kill('SIGKILL');
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toMatch(/incomplete/);
    await world.eventually(() => world.prisma.usageRecord.findFirst({ where: { modelName: model, stream: true } }));
    // Stopped means drained (recorder and writer): the count is final, and the cut stream has exactly one record.
    await api.stop();
    const records = await world.prisma.usageRecord.findMany({ where: { modelName: model, stream: true } });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'PARTIAL', estimated: true, errorCode: 'upstream_stream_cut', nodeId: node.id });
    expect(records[0]!.completionTokens).toBeGreaterThanOrEqual(4);
  });
});
