import type { ChildProcess } from 'node:child_process';
export interface LocalPostgres {
  port: number;
  url: string;
  pid: number;
  child: ChildProcess;
  adminUrl(database: string): string;
  stop(): Promise<void>;
}
export function startPostgres(options: { dir: string; port?: number; log?: (message: string) => void; database?: string; fsync?: boolean }): Promise<LocalPostgres>;
