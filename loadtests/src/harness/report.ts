import type { LoadResult, Sample } from './load.ts';
import { percentile, round } from '../stats.ts';
import { lineChart } from './svg-chart.ts';

export interface RunInfo {
  title: string;
  config: Record<string, string | number>;
  killedAtSecond: number | null;
  /** Per second: how many circuits were open across API instances. */
  openCircuits: [number, number][];
  overLimitKey: string;
  overLimitRpm: number;
  notes: string[];
}

const ok = (s: Sample) => s.status === 200 && !s.error;

function perSecond(samples: Sample[], seconds: number, f: (bucket: Sample[]) => number): [number, number][] {
  // Requests sent a few ms past the last full second join that second's bucket.
  const buckets: Sample[][] = Array.from({ length: seconds }, () => []);
  for (const s of samples) buckets[Math.min(seconds - 1, Math.floor(s.at))]!.push(s);
  return buckets.map((b, i) => [i, f(b)] as [number, number]);
}

/** Renders the run as markdown plus SVG charts; returns { markdown, charts: filename → svg }. */
export function renderReport(result: LoadResult, info: RunInfo) {
  const { samples } = result;
  const seconds = Math.max(1, Math.floor(Math.max(...samples.map((s) => s.at))));
  const others = samples.filter((s) => s.key !== info.overLimitKey);
  const over = samples.filter((s) => s.key === info.overLimitKey);
  const ttft = others.filter(ok).map((s) => s.ttftMs);
  const ttftStream = others.filter((s) => ok(s) && s.stream).map((s) => s.ttftMs);
  const completed = samples.filter(ok).length;
  const errorsOthers = others.filter((s) => !ok(s));
  const byStatus = new Map<string, number>();
  for (const s of errorsOthers) {
    const kind = s.error ? `${s.status} ${s.error}` : String(s.status);
    byStatus.set(kind, (byStatus.get(kind) ?? 0) + 1);
  }
  const over429 = over.filter((s) => s.status === 429).length;
  const overOk = over.filter(ok).length;
  // Windows are one minute from the key's first request: count admissions per window.
  const firstOver = Math.min(...over.map((s) => s.at));
  const windows = new Map<number, number>();
  for (const s of over.filter(ok)) windows.set(Math.floor((s.at - firstOver) / 60), (windows.get(Math.floor((s.at - firstOver) / 60)) ?? 0) + 1);

  const charts = {
    'throughput.svg': lineChart({
      title: 'Completed requests per second', xLabel: 'second', yLabel: 'req/s',
      series: [
        { name: 'completed 200', color: '#1f77b4', points: perSecond(samples, seconds, (b) => b.filter(ok).length) },
        { name: '429 (over-limit key)', color: '#ff7f0e', points: perSecond(over, seconds, (b) => b.filter((s) => s.status === 429).length) },
        { name: 'other errors', color: '#d62728', points: perSecond(others, seconds, (b) => b.filter((s) => !ok(s)).length) },
      ],
      marks: info.killedAtSecond === null ? [] : [{ x: info.killedAtSecond, label: 'node killed' }],
    }),
    'ttft.svg': lineChart({
      title: 'Time to first token (keys within their limits)', xLabel: 'second', yLabel: 'ms',
      series: [
        { name: 'p50', color: '#2ca02c', points: perSecond(others, seconds, (b) => percentile(b.filter(ok).map((s) => s.ttftMs), 50) || 0) },
        { name: 'p99', color: '#9467bd', points: perSecond(others, seconds, (b) => percentile(b.filter(ok).map((s) => s.ttftMs), 99) || 0) },
      ],
      marks: info.killedAtSecond === null ? [] : [{ x: info.killedAtSecond, label: 'node killed' }],
    }),
    'circuits.svg': lineChart({
      title: 'Open circuits (sum over API instances)', xLabel: 'second', yLabel: 'open',
      series: [{ name: 'open circuits', color: '#d62728', points: info.openCircuits }],
      marks: info.killedAtSecond === null ? [] : [{ x: info.killedAtSecond, label: 'node killed' }],
    }),
  };

  const rows = [
    ['sent', samples.length + result.dropped],
    ['not sent (generator bound reached)', result.dropped],
    ['completed (200, no error event)', completed],
    ['sustained completed req/s', round(completed / result.wallSeconds)],
    ['TTFT p50 / p99, all OK requests (ms)', `${round(percentile(ttft, 50))} / ${round(percentile(ttft, 99))}`],
    ['TTFT p50 / p99, streamed (ms)', `${round(percentile(ttftStream, 50))} / ${round(percentile(ttftStream, 99))}`],
    ['errors, keys within limits', errorsOthers.length],
    ['429s to keys within limits', others.filter((s) => s.status === 429).length],
    [`over-limit key (limit ${info.overLimitRpm} per minute): admitted / 429`, `${overOk} / ${over429}; admitted per minute window: ${[...windows.values()].join(', ') || 0}`],
  ];
  const markdown = [
    `# ${info.title}`,
    '',
    '## Configuration',
    '',
    ...Object.entries(info.config).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Results',
    '',
    '| measure | value |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    errorsOthers.length ? `Errors by kind (keys within limits): ${[...byStatus].map(([k, v]) => `${k}: ${v}`).join(', ')}` : 'No errors for keys within their limits.',
    '',
    '![throughput](throughput.svg)',
    '',
    '![ttft](ttft.svg)',
    '',
    '![circuits](circuits.svg)',
    '',
    '## Notes',
    '',
    ...info.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  return { markdown, charts };
}
