import { spawn } from 'node:child_process';
import { which } from './system-packages.mjs';

const setpriv = process.platform === 'linux' ? which('setpriv', ['/usr/bin', '/bin']) : null;

/**
 * Spawns a long-running service for a launcher (`npm start`, `npm test`):
 * - in its own process group, so a terminal's Ctrl-C (sent to the whole foreground group) reaches only
 *   the launcher, which then stops each service once and in order (the API drains before Redis stops);
 * - with a parent-death signal (util-linux `setpriv --pdeathsig`, Linux), so a service never outlives a
 *   launcher that was killed with -9. The pid is the service's own: setpriv execs it.
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} options
 */
export function spawnService(command, args, options = {}) {
  const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, args];
  return spawn(cmd, argv, { ...options, detached: true });
}

/** Whether a child has exited (or was killed). */
export const hasExited = (child) => child.exitCode !== null || child.signalCode !== null;

/** Sends `signal` once and resolves when the child has exited. */
export function stopChild(child, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    if (hasExited(child)) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** SIGKILL to the child's whole process group (its own children included): the last resort. */
export function killGroup(child) {
  if (hasExited(child) || !child.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
