import type { ChildProcess } from 'node:child_process';
export function freePort(host?: string): Promise<number>;
export function waitForPort(port: number, options?: { host?: string; timeoutMs?: number; child?: ChildProcess }): Promise<void>;
