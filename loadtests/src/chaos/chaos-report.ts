import type { Accounts } from './accounting.ts';
import type { Fault } from './fault.ts';

export interface FaultRun {
  fault: Fault;
  accounts: Accounts;
  /** Requests due while the generator was at its in-flight bound (not sent). */
  dropped: number;
  verdict?: { pass: boolean; summary: string };
}

const HEADER = [
  'fault', 'sent', 'completed', 'admitted', 'records', 'records not SUCCESS', 'lost', 'doubled', 'no answer (metered)', 'latency p50 / p99 (ms)',
  'tokens: clients / DB', 'cut streams: tokens delivered / records below', 'errors by status', 'recover (s)', 'settle (s)',
];

export function faultRow({ fault, accounts: a }: FaultRun): string[] {
  const kinds = (m: Map<string, number>) => [...m].sort((x, y) => y[1] - x[1]).map(([kind, n]) => `${kind}: ${n}`).join('; ') || 'none';
  return [
    fault.name, String(a.sent), String(a.completed), String(a.admitted), String(a.records), kinds(a.recordKinds), String(a.lost.length), String(a.doubled.length),
    `${a.noAnswer} (${a.noAnswerMetered})`, `${a.latencyMs[0]} / ${a.latencyMs[1]}`, `${a.clientTokens} / ${a.recordedTokens}`, `${a.cutDelivered} / ${a.cutUnderMetered}`,
    kinds(a.errors), a.recoverySeconds.toFixed(2), a.settleSeconds.toFixed(0),
  ];
}

const table = (rows: string[][]) => [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** Passes when no admitted request was lost or doubled and every fault's own check passed. */
export const runPassed = (run: FaultRun) => run.accounts.lost.length === 0 && run.accounts.doubled.length === 0 && (run.verdict?.pass ?? true);

export function renderChaosReport(runs: FaultRun[], config: Record<string, string>, notes: string[]): string {
  const failures = runs.filter((r) => !runPassed(r));
  return [
    '# CIC chaos suite',
    '',
    ...Object.entries(config).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Faults',
    '',
    ...runs.map((r) => `- **${r.fault.name}** (load second ${r.fault.atSecond} of ${r.fault.durationSeconds}): ${r.fault.what}`),
    '',
    '## Results',
    '',
    table(runs.map(faultRow)),
    '',
    ...runs.filter((r) => r.verdict).map((r) => `- ${r.fault.name}: ${r.verdict!.pass ? 'PASS' : 'FAIL'}: ${r.verdict!.summary}`),
    ...runs.filter((r) => r.accounts.completedMismatched > 0).map((r) => `- ${r.fault.name}: ${r.accounts.completedMismatched} completed requests have a record with other completion tokens than the client received`),
    ...runs.filter((r) => r.dropped > 0).map((r) => `- ${r.fault.name}: ${r.dropped} requests not sent (the generator's in-flight bound was reached)`),
    ...runs.flatMap((r) => [
      ...(r.accounts.lost.length ? [`- ${r.fault.name}: lost (first 5): ${r.accounts.lost.slice(0, 5).join(', ')}`] : []),
      ...(r.accounts.doubled.length ? [`- ${r.fault.name}: doubled (first 5): ${r.accounts.doubled.slice(0, 5).join(', ')}`] : []),
    ]),
    '',
    failures.length === 0
      ? '**Bar met: 0 lost and 0 doubled in every fault.**'
      : `**Bar not met** in: ${failures.map((r) => r.fault.name).join(', ')}.`,
    '',
    '## How to read it',
    '',
    '- *admitted*: the API answered with rate-limit headers and not 429 (the limiter let it in); each must end as exactly one usage record. *lost*: admitted, no record. *doubled*: a request id with more than one record.',
    '- *no answer (metered)*: requests whose connection failed before any HTTP status (refused or cut by the fault): the client cannot tell whether they were admitted; in brackets, how many of them have a record anyway. They count neither as lost nor as admitted.',
    '- *latency*: of completed requests, from sending to the last byte.',
    '- *tokens*: completion tokens of completed requests, from the usage each client received and from their records. *cut streams*: admitted streams that broke after some tokens: tokens the clients received, and how many records say fewer than that (under-metered).',
    '- *recover*: seconds from the fault until every later 1 s window (by send time) had at least 99 % success. *settle*: seconds waited after the load for the records to stop moving.',
    '',
    '## Notes',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}
