import type { z } from 'zod';
import { AppError } from '../errors.ts';

/** Parses a model input; the first problem becomes a BAD_REQUEST naming the field. */
export function parseModelInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.path.map(String).join('.') || 'input';
  throw new AppError('BAD_REQUEST', `Invalid ${param}: ${issue.message}`, { param });
}
