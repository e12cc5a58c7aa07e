import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The bin npm links for the api package: what `npx cic` runs. */
export const CIC_BIN = `${ROOT}node_modules/.bin/cic`;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command line as a child process (no shell), from the repository root, with exactly `env` added to PATH/HOME. */
export function run(command: string, args: readonly string[], env: Record<string, string>, cwd = ROOT): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const cic = (args: readonly string[], env: Record<string, string>) => run(CIC_BIN, args, env);

/** A database name on the run's Postgres server that does not exist yet (`cic migrate` creates it); drop it after. */
export function freshDatabase(): { url: string; drop(): Promise<void> } {
  const name = `t_fresh_${randomUUID().replace(/-/g, '')}`;
  const url = new URL(inject('testDatabaseAdminUrl'));
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: inject('testDatabaseAdminUrl') });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
