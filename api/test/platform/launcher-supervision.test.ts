// The parts of `npm start` that keep it up and stop it cleanly, each on real processes: stop signals
// counted as presses, the parent watch that catches a `sh -c` layer dying without passing a SIGTERM on,
// and the supervisor that restarts crashed children with backoff and gives up on a crash loop.
// (npm-start.test.ts runs them together on the whole platform.)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnService, stopChild } from '../../../scripts/lib/spawn-service.mjs';
import { stopSignalHandler } from '../../../scripts/lib/stop-signals.ts';
import { SupervisedProcess, type Started, type SupervisedProcessOptions } from '../../../scripts/lib/supervised-process.ts';

const root = resolve(import.meta.dirname, '../../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Node child that runs `code`, started the way the launcher starts its children. */
function nodeChild(code: string): () => Promise<Started> {
  return async () => {
    const child = spawnService(process.execPath, ['-e', code], { stdio: 'ignore' });
    return { child, stop: () => stopChild(child, 'SIGTERM') };
  };
}

function supervised(start: () => Promise<Started>, options: Partial<SupervisedProcessOptions> = {}) {
  const said: string[] = [];
  const fatal: string[] = [];
  const p = new SupervisedProcess({ name: 'svc', start, say: (m) => said.push(m), onFatal: (r) => fatal.push(r), initialBackoffMs: 10, ...options });
  return { p, said, fatal };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(10);
}

describe('stop signals', () => {
  it('the first press drains, a second only reminds, a third forces; npm passing on the same Ctrl-C is no new press', () => {
    const calls: string[] = [];
    const onSignal = stopSignalHandler({ stop: (s) => calls.push(`stop ${s}`), remind: () => calls.push('remind'), force: () => calls.push('force') }, 500);
    onSignal('SIGINT', 10_000); // the terminal's Ctrl-C…
    onSignal('SIGINT', 10_003); // …and npm forwarding it
    expect(calls).toEqual(['stop SIGINT']);
    onSignal('SIGINT', 12_000);
    onSignal('SIGINT', 12_002);
    expect(calls).toEqual(['stop SIGINT', 'remind']);
    onSignal('SIGTERM', 14_000);
    expect(calls).toEqual(['stop SIGINT', 'remind', 'force']);
  });

  it('the launcher notices when the `sh -c` between npm and it dies of a SIGTERM without passing it on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cic-parent-'));
    const script = join(dir, 'child.mjs');
    writeFileSync(script, [
      `import { watchParent } from ${JSON.stringify(join(root, 'scripts/lib/stop-signals.ts'))};`,
      `watchParent(() => { console.log('parent gone'); process.exit(0); }, 20);`,
      `console.log('watching');`,
      'setInterval(() => {}, 1000);',
    ].join('\n'));
    // The layer npm puts between itself and the script: a shell that forks the command and waits.
    const sh = spawn('sh', ['-c', `"${process.execPath}" --import tsx ${script}; true`], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    sh.stdout!.on('data', (d) => (out += d));
    try {
      await until(() => out.includes('watching'));
      sh.kill('SIGTERM');
      await until(() => out.includes('parent gone'));
      expect(out).toBe('watching\nparent gone\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('supervised children', () => {
  it('a child killed with -9 is restarted (logged), and stop() then stops it once without another restart', async () => {
    const { p, said, fatal } = supervised(nodeChild('setInterval(() => {}, 1000)'));
    await p.start();
    p.supervise();
    const first = p.pid!;
    process.kill(first, 'SIGKILL');
    await until(() => said.length === 2);
    expect(said).toEqual([
      `svc (pid ${first}) exited unexpectedly (SIGKILL): restarting in 0.01 s (crash 1 in a row; giving up at 5)`,
      `svc restarted (pid ${p.pid})`,
    ]);
    expect(p.pid).not.toBe(first);
    expect(p.running).toBe(true);
    await p.stop();
    expect(p.running).toBe(false);
    expect(said).toHaveLength(2);
    expect(fatal).toEqual([]);
  });

  it('a child that keeps crashing right after its start is restarted with a doubling delay, then given up', async () => {
    const { p, said, fatal } = supervised(nodeChild('process.exit(3)'), { maxRapidCrashes: 3 });
    await p.start();
    p.supervise();
    await until(() => fatal.length === 1);
    expect(said.map((m) => m.replace(/pid \d+/g, 'pid N'))).toEqual([
      'svc (pid N) exited unexpectedly (code 3): restarting in 0.01 s (crash 1 in a row; giving up at 3)',
      'svc restarted (pid N)',
      'svc (pid N) exited unexpectedly (code 3): restarting in 0.02 s (crash 2 in a row; giving up at 3)',
      'svc restarted (pid N)',
    ]);
    expect(fatal[0]).toMatch(/^svc \(pid \d+\) exited unexpectedly \(code 3\): 3 crashes in a row, each within 60 s of starting; giving up$/);
    expect(p.running).toBe(false);
  });

  it('a restart that fails (the port is taken, say) counts as a crash', async () => {
    let starts = 0;
    const sleeper = nodeChild('setInterval(() => {}, 1000)');
    const { p, said, fatal } = supervised(async () => {
      if (starts++ > 0) throw new Error('address in use\nmore detail');
      return sleeper();
    }, { maxRapidCrashes: 3 });
    await p.start();
    p.supervise();
    process.kill(p.pid!, 'SIGKILL');
    await until(() => fatal.length === 1);
    expect(said.slice(1)).toEqual(['svc did not restart (address in use): restarting in 0.02 s (crash 2 in a row; giving up at 3)']);
    expect(fatal).toEqual(['svc did not restart (address in use): 3 crashes in a row, each within 60 s of starting; giving up']);
  });

  it('before supervise() (the platform is still starting) an exit is fatal at once', async () => {
    const { p, said, fatal } = supervised(nodeChild('process.exit(1)'));
    await p.start();
    const pid = p.pid;
    await until(() => fatal.length === 1);
    expect(fatal).toEqual([`svc (pid ${pid}) exited unexpectedly (code 1)`]);
    expect(said).toEqual([]);
  });

  it('a stop while a restart is pending cancels the restart', async () => {
    const { p, said } = supervised(nodeChild('setInterval(() => {}, 1000)'), { initialBackoffMs: 20 });
    await p.start();
    p.supervise();
    process.kill(p.pid!, 'SIGKILL');
    await until(() => said.length === 1);
    await p.stop();
    await sleep(300); // well past the restart delay
    expect(p.running).toBe(false);
    expect(said).toEqual([expect.stringContaining('restarting in 0.02 s')]);
  });
});
