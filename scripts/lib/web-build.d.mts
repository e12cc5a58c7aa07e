export function ensureWebBuilt(options: { log: (message: string) => void }): void;
