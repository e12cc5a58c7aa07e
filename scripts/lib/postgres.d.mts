export interface LocalPostgres {
  port: number;
  url: string;
  pid: number;
  adminUrl(database: string): string;
  stop(): Promise<void>;
}
export function startPostgres(options: { dir: string; log?: (message: string) => void; database?: string; fsync?: boolean }): Promise<LocalPostgres>;
