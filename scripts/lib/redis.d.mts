export interface LocalRedis {
  port: number;
  url: string;
  pid: number;
  stop(): Promise<void>;
}
export function startRedis(options?: { dir?: string; log?: (message: string) => void }): Promise<LocalRedis>;
