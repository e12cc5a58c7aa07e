import type { ChildProcess } from 'node:child_process';
export interface LocalRedis {
  port: number;
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}
export function startRedis(options?: { dir?: string; port?: number; log?: (message: string) => void }): Promise<LocalRedis>;
