import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { withoutServerPaths } from '../src/nodes/node-event-text.ts';

describe('withoutServerPaths', () => {
  it.each([
    ['Task from YAML spec: /tmp/cic-sky-Ab12/cic-qwen-1a2b3c4d.yaml', 'Task from YAML spec: cic-qwen-1a2b3c4d.yaml'],
    ['    at main (file:///work/main/simulator/src/main.ts:10:5)', '    at main (main.ts:10:5)'],
    ['Running setup. View logs at: ~/sky_logs/sky-2026-12-01/setup.log', 'Running setup. View logs at: setup.log'],
    ["Error: ENOENT: no such file or directory, open '/home/cic/.sky/config.yaml'", "Error: ENOENT: no such file or directory, open 'config.yaml'"],
    ['sky launch could not run /opt/sky/bin/sky: spawn /opt/sky/bin/sky ENOENT', 'sky launch could not run sky: spawn sky ENOENT'],
    [`wrote ${tmpdir()}/x/state.json`, 'wrote state.json'],
  ])('cuts the server path in %j to its last segment', (line, expected) => {
    expect(withoutServerPaths(line)).toBe(expected);
  });

  it.each([
    'endpoint http://127.0.0.1:41285; waiting for vLLM /health and /v1/models',
    'GET http://10.0.0.5:8000/tmp/health answered 404',
    'starting simulator: cic-vllm-sim --host 127.0.0.1 --port 0 --model Qwen/Qwen2.5-7B-Instruct',
    'PROVISIONING → STARTING',
  ])('leaves %j alone (HTTP paths, URLs and model names are not server paths)', (line) => {
    expect(withoutServerPaths(line)).toBe(line);
  });
});
