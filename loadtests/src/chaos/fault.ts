import type { PrismaClient } from '@cic/db';
import type { Stack } from '../harness/stack.ts';

export interface FaultContext {
  stack: Stack;
  /** The accounting's own connection to the stack's database. */
  prisma: PrismaClient;
  log(message: string): void;
}

/** A fault injected into the running platform while the chaos load runs. */
export interface Fault {
  name: string;
  /** One line for the report: what is done and how the platform is put back. */
  what: string;
  durationSeconds: number;
  /** Second of the load at which it strikes. */
  atSecond: number;
  /** Bounds of the wait for usage records after the load (a dead instance's admissions take longer). */
  settleSeconds: { min: number; max: number };
  /** Injects the fault; resolves once the platform is whole again (process restarted, store back). */
  strike(ctx: FaultContext): Promise<void>;
  /** A verdict of the fault's own beyond the usage books (the webhook storm's ledger). */
  check?(ctx: FaultContext): Promise<{ pass: boolean; summary: string }>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
