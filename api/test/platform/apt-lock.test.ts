// npm start / npm test install Debian packages; on a fresh machine unattended upgrades often hold the
// dpkg lock. The installs wait for it (bounded) instead of failing: proved on a lock file of our own,
// held by util-linux `flock` the way apt holds its own (the kernel lists both in /proc/locks).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aptLockHolder, aptLockTimeoutSeconds, waitForAptLocks } from '../../../scripts/lib/system-packages.mjs';

let dir: string;
let lock: string;
let holder: ChildProcess | undefined;

/** Holds an exclusive lock on `path` until released; only flock holds it (--close: not its sleep). */
async function holdLock(path: string): Promise<ChildProcess> {
  const child = spawn('flock', ['--exclusive', '--close', path, 'sleep', '600'], { stdio: 'ignore', detached: true });
  while (!aptLockHolder([path])) await new Promise((r) => setTimeout(r, 20));
  return child;
}

async function release(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGKILL'); // flock and its sleep
    await exited;
  }
  // The kernel drops the lock as the process is torn down, a moment after its exit is reported.
  while (aptLockHolder([lock])) await new Promise((r) => setTimeout(r, 20));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cic-apt-lock-'));
  lock = join(dir, 'lock-frontend');
  writeFileSync(lock, '');
});
afterEach(async () => {
  if (holder) await release(holder);
  holder = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('waiting for the dpkg lock', () => {
  it('names the process holding the lock, and none once it is released', async () => {
    expect(aptLockHolder([lock])).toBeNull();
    holder = await holdLock(lock);
    expect(aptLockHolder([lock])).toEqual({ path: lock, pid: holder.pid, command: 'flock' });
    await release(holder);
    expect(aptLockHolder([lock])).toBeNull();
  });

  it('waits while another process holds the lock, says so once, and goes on when it is released', async () => {
    holder = await holdLock(lock);
    const said: string[] = [];
    let done = false;
    const waiting = waitForAptLocks({ paths: [lock], timeoutSeconds: 600, log: (m: string) => said.push(m), pollMs: 20 }).then(() => { done = true; });
    while (!said.length) await new Promise((r) => setTimeout(r, 20));
    expect(said).toEqual([`waiting up to 600 s (APT_LOCK_TIMEOUT_SECONDS) for another package manager to finish: flock (pid ${holder.pid}) holds ${lock}`]);
    // Still waiting after several polls: the lock is held.
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(false);
    await release(holder);
    await waiting;
    expect(said).toEqual([expect.stringContaining('waiting up to 600 s'), 'the package lock is free']);
  });

  it('gives up at its deadline with a message naming the holder and the variable to raise', async () => {
    holder = await holdLock(lock);
    await expect(waitForAptLocks({ paths: [lock], timeoutSeconds: 0, pollMs: 20 }))
      .rejects.toThrow(`another package manager is still running after 0 s: flock (pid ${holder.pid}) holds ${lock}; wait for it to finish or raise APT_LOCK_TIMEOUT_SECONDS`);
  });

  it('returns at once when nothing holds the lock', async () => {
    const said: string[] = [];
    await waitForAptLocks({ paths: [lock], timeoutSeconds: 0, log: (m: string) => said.push(m) });
    expect(said).toEqual([]);
  });

  it('reads APT_LOCK_TIMEOUT_SECONDS (default 300) and refuses a bad value naming it', () => {
    expect(aptLockTimeoutSeconds({})).toBe(300);
    expect(aptLockTimeoutSeconds({ APT_LOCK_TIMEOUT_SECONDS: '45' })).toBe(45);
    expect(() => aptLockTimeoutSeconds({ APT_LOCK_TIMEOUT_SECONDS: 'soon' })).toThrow('APT_LOCK_TIMEOUT_SECONDS="soon": expected a whole number of seconds');
  });
});
