export { createPrismaClient, type CreatePrismaOptions } from './client.ts';
export * from '../generated/client.ts';
