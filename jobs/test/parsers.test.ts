import { describe, expect, it } from 'vitest';
import { parseSkyStatus } from '../src/providers/skypilot/parse-sky-status.ts';
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
