import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseNodeConfig } from '@cic/core/nodes/node-config';
import { parseSkyStatus } from '../src/providers/skypilot/parse-sky-status.ts';
import { renderTask } from '../src/providers/skypilot/render-task.ts';
import { parseVllmMetrics } from '../src/vllm-probe.ts';

describe('parseSkyStatus', () => {
  it('reads NAME and STATUS from the clusters table and stops at the next section', () => {
    const out = [
      'Clusters',
      'NAME              LAUNCHED     RESOURCES                                   STATUS   AUTOSTOP  COMMAND',
      "cic-llama-1a2b    2 hrs ago    1x AWS(p5.48xlarge, {'H100': 8})            UP       -         sky launch -c cic-llama-1a2b ...",
      "dev-box           5 days ago   1x GCP(n1-highmem-8, {'T4': 1})             STOPPED  10m       sky launch -c dev-box",
      "cic-new-9f        a few secs   1x AWS(g6.xlarge, {'L4': 1})                INIT     -         sky launch -c cic-new-9f ...",
      '',
      'Managed jobs',
      'No in-progress managed jobs. (See: sky jobs -h)',
    ].join('\n');
    expect(parseSkyStatus(out)).toEqual([
      { name: 'cic-llama-1a2b', status: 'UP' }, { name: 'dev-box', status: 'STOPPED' }, { name: 'cic-new-9f', status: 'INIT' },
    ]);
  });

  it('returns no clusters for "No existing clusters."', () => {
    expect(parseSkyStatus('Clusters\nNo existing clusters.\n\nManaged jobs\n')).toEqual([]);
  });
});

describe('renderTask', () => {
  it('renders valid SkyPilot YAML with secrets by name only and shell-quoted vLLM args', () => {
    process.env.HF_TOKEN = 'hf_do_not_render_me';
    const yaml = renderTask({
      cluster: 'cic-x', servedModelName: 'meta-llama/Llama-3.1-8B-Instruct', accelerator: 'H100:1', cloud: 'aws', region: null,
      config: parseNodeConfig({ vllmArgs: ['--max-model-len', "8192'; rm -rf /"], secretEnvNames: ['HF_TOKEN', 'WANDB_API_KEY'] }),
    });
    expect(yaml).not.toContain('hf_do_not_render_me');
    const task = parse(yaml) as { name: string; resources: Record<string, unknown>; envs: Record<string, unknown>; run: string };
    expect(task.name).toBe('cic-x');
    expect(task.resources).toEqual({ accelerators: 'H100:1', cloud: 'aws', region: null, disk_size: 256, ports: 8000 });
    expect(task.envs).toEqual({ MODEL_SOURCE: 'meta-llama/Llama-3.1-8B-Instruct', SERVED_MODEL_NAME: 'meta-llama/Llama-3.1-8B-Instruct', VLLM_PORT: 8000, HF_TOKEN: null, WANDB_API_KEY: null });
    expect(task.run).toContain(`--port "$VLLM_PORT" '--max-model-len' '8192'\\''; rm -rf /'`);
  });

  it('refuses a vLLM argument with a line break (it would escape the run script)', () => {
    expect(() => parseNodeConfig({ vllmArgs: ['--x\nrm -rf /'] })).toThrow(/invalid node config: vllmArgs.0: a vLLM argument cannot contain a line break/);
  });
});

describe('parseVllmMetrics', () => {
  it('reads v1 gauges, summing label sets', () => {
    const text = [
      '# HELP vllm:num_requests_running Number of requests in model execution batches.',
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running{engine="0",model_name="m"} 3.0',
      'vllm:num_requests_running{engine="1",model_name="m"} 2.0',
      'vllm:num_requests_waiting{engine="0",model_name="m"} 7.0',
      'vllm:num_requests_waiting_by_reason{reason="capacity"} 99',
      'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25',
    ].join('\n');
    expect(parseVllmMetrics(text)).toEqual({ running: 5, waiting: 7, kvCacheUsage: 0.25 });
  });

  it('falls back to gpu_cache_usage_perc (older vLLM) and to zero when absent', () => {
    expect(parseVllmMetrics('vllm:gpu_cache_usage_perc{model_name="m"} 0.5\n')).toEqual({ running: 0, waiting: 0, kvCacheUsage: 0.5 });
  });
});
