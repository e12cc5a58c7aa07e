import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliOptions } from '../src/cli-args.ts';
import { holdingChat, jsonOf, postJson, readSse } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/cic-vllm-sim.mjs', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Starts the CLI the way a parent process would and waits for its listening line. */
async function launch(args: string[]): Promise<{ child: ChildProcess; url: string; model: string }> {
  const child = spawn(process.execPath, [BIN, '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd: PACKAGE_DIR,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  const announced = JSON.parse(line) as { event: string; url: string; model: string };
  expect(announced.event).toBe('listening');
  return { child, url: announced.url, model: announced.model };
}

describe('simulator CLI', () => {
  it('announces its URL, serves the named model and exits 0 on SIGTERM', async () => {
    const { child, url, model } = await launch(['--model', 'cli/model', '--ttft-ms', '0', '--itl-ms', '0']);
    expect(model).toBe('cli/model');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const models = await jsonOf(await fetch(`${url}/v1/models`));
    expect(models.data[0]?.id).toBe('cli/model');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });

  it('ends an in-flight stream cleanly when told to stop', async () => {
    const { child, url } = await launch(['--ttft-ms', '0', '--itl-ms', '20', '--itl-spread-ms', '0']);
    const response = await postJson(`${url}/v1/chat/completions`, { ...holdingChat(), stream: true });
    const exited = once(child, 'exit');
    let signalled = false;
    const { events } = await readSse(response, () => {
      if (!signalled) signalled = child.kill('SIGINT');
    });
    expect(events.at(-1)).toMatchObject({ error: { code: 503 } });
    expect(await exited).toEqual([0, null]);
  });

  it('exits 2 naming a bad flag', async () => {
    const child = spawn(process.execPath, [BIN, '--max-num-seqs', 'lots'], {
      cwd: PACKAGE_DIR,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect((await once(child, 'exit'))[0]).toBe(2);
    expect(stderr).toContain('--max-num-seqs');
  });
});

describe('parseCliOptions', () => {
  it('maps vLLM-style flags to options', () => {
    const options = parseCliOptions([
      '--model', 'a/b', '--max-model-len', '8192', '--max-num-seqs', '8', '--max-waiting', '0',
      '--ttft-ms', '0', '--itl-ms', '0', '--load-factor', '2', '--mode', 'random', '--output-tokens', '32',
      '--failure-rate', '0.25', '--failure-types', 'rate_limit,stream_cut', '--enable-force-include-usage',
      '--seed', '3',
    ]);
    expect(options).toMatchObject({
      model: 'a/b', maxModelLen: 8192, maxNumSeqs: 8, maxWaiting: 0, ttftMs: 0, itlMs: 0, loadFactor: 2,
      mode: 'random', outputTokens: 32, failureRate: 0.25, failureTypes: ['rate_limit', 'stream_cut'],
      enableForceIncludeUsage: true, seed: 3,
    });
  });

  it('has vLLM-like defaults, accepts a positional model and SIM_* variables', () => {
    expect(parseCliOptions([])).toMatchObject({
      model: 'cic-sim/echo-1', host: '127.0.0.1', port: 0, maxModelLen: 4096, maxNumSeqs: 64, maxWaiting: 256, mode: 'echo',
    });
    expect(parseCliOptions(['org/model']).model).toBe('org/model');
    const fromEnv = parseCliOptions(['--itl-ms', '5'], { SIM_ITL_MS: '9', SIM_MAX_NUM_SEQS: '3' });
    expect(fromEnv).toMatchObject({ itlMs: 5, maxNumSeqs: 3 });
  });

  it('maps the tool-calling, embedding and recording flags', () => {
    expect(
      parseCliOptions([
        '--enable-auto-tool-choice', '--tool-call-parser', 'hermes', '--embedding-dimensions', '1024', '--matryoshka',
        '--enable-control-routes', '--record-requests',
      ]),
    ).toMatchObject({
      enableAutoToolChoice: true, toolCallParser: 'hermes', embeddingDimensions: 1024, matryoshka: true,
      enableControlRoutes: true, recordRequests: true,
    });
    expect(parseCliOptions([])).toMatchObject({ enableAutoToolChoice: false, embeddingDimensions: 384, matryoshka: false, recordRequests: false });
    expect(() => parseCliOptions(['--embedding-dimensions', '0'])).toThrow(/--embedding-dimensions/);
  });

  it("accepts vLLM's engine flags (a model's launch settings carry them) and ignores them; other unknown flags stay errors", () => {
    const options = parseCliOptions([
      '--served-model-name', 'Qwen/Qwen2.5-7B-Instruct', '--max-model-len', '32768', '--gpu-memory-utilization', '0.9',
      '--dtype=bfloat16', '--tensor-parallel-size', '2', '--trust-remote-code', '--enforce-eager', '--chat-template', './tool_chat.jinja',
      '--enable-auto-tool-choice', '--tool-call-parser', 'hermes', '--seed', '1',
    ]);
    expect(options).toMatchObject({ model: 'Qwen/Qwen2.5-7B-Instruct', maxModelLen: 32768, enableAutoToolChoice: true, toolCallParser: 'hermes' });
    expect(options).toEqual(parseCliOptions(['--served-model-name', 'Qwen/Qwen2.5-7B-Instruct', '--max-model-len', '32768', '--enable-auto-tool-choice', '--tool-call-parser', 'hermes', '--seed', '1']));
    expect(() => parseCliOptions(['--gpu-memory-utilisation', '0.9'])).toThrow(/gpu-memory-utilisation/);
  });

  it('rejects bad values naming the flag', () => {
    expect(() => parseCliOptions(['--failure-rate', '2'])).toThrow(/--failure-rate/);
    expect(() => parseCliOptions(['--failure-types', 'meteor'])).toThrow(/--failure-types.*meteor/);
    expect(() => parseCliOptions(['--mode', 'loud'])).toThrow(/--mode/);
    expect(() => parseCliOptions(['--no-such-flag'])).toThrow();
  });
});
