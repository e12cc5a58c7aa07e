import type { ChildProcess, SpawnOptions } from 'node:child_process';
export function spawnService(command: string, args: string[], options?: SpawnOptions): ChildProcess;
export function hasExited(child: ChildProcess): boolean;
export function stopChild(child: ChildProcess, signal?: NodeJS.Signals): Promise<void>;
export function killGroup(child: ChildProcess): void;
