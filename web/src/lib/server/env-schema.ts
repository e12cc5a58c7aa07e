import { z } from 'zod';

/** The dashboard server's environment (HOST, PORT and ORIGIN are read by adapter-node itself). */
export const webEnvSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ORIGIN: z.url().optional(),
  /** Where the dashboard's server side reaches the API. */
  API_URL: z.url().default('http://127.0.0.1:4000'),
});

export type WebConfig = z.infer<typeof webEnvSchema>;
