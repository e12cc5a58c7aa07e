export function waitForHttp(url: string, options?: { timeoutMs?: number; intervalMs?: number }): Promise<void>;
