export function runLogged(options: { command: string; args: string[]; cwd: string; logFile: string; env?: NodeJS.ProcessEnv }): void;
export function ensureWebBuilt(options: { log: (message: string) => void; logFile: string }): void;
