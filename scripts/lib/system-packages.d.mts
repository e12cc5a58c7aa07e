export const APT_LOCKS: string[];
export function which(name: string, extraDirs?: string[]): string | null;
export function aptLockTimeoutSeconds(env?: Record<string, string | undefined>): number;
export function aptLockHolder(paths?: string[]): { path: string; pid: number; command: string } | null;
export function waitForAptLocks(options?: { paths?: string[]; timeoutSeconds?: number; deadline?: number; log?: (message: string) => void; pollMs?: number }): Promise<void>;
export function aptInstall(packages: string[], why: string, options?: { log?: (message: string) => void }): Promise<void>;
export function aptHasCandidate(pkg: string): boolean;
export function postgresBinDirs(): string[];
export function ensureCommand(command: string, pkg: string, options?: { log?: (message: string) => void; extraDirs?: string[] }): Promise<string | null>;
