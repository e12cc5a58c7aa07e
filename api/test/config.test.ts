import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../src/config.ts';
import { ConfigError } from '@cic/core/lib/env';

const valid = { DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('API config', () => {
  it('applies documented defaults', () => {
    const config = loadApiConfig(valid);
    expect(config).toMatchObject({ HOST: '127.0.0.1', PORT: 4000, LOG_LEVEL: 'info', SHUTDOWN_GRACE_SECONDS: 30 });
  });

  it.each([
    ['PORT', 'abc', /PORT="abc": expected a port number/],
    ['PORT', '70000', /PORT="70000": expected a port number/],
    ['DATABASE_URL', 'mysql://x/y', /DATABASE_URL="mysql:\/\/x\/y": expected a postgres or postgresql URL/],
    ['REDIS_URL', 'not a url', /REDIS_URL="not a url": expected a redis or rediss URL/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud"/],
    ['INFERENCE_CORS_ORIGINS', 'https://app.example.com/path', /INFERENCE_CORS_ORIGINS=".*": 'https:\/\/app.example.com\/path' is not an origin/],
  ])('names %s when it is %s', (name, value, message) => {
    expect(() => loadApiConfig({ ...valid, [name]: value })).toThrow(ConfigError);
    expect(() => loadApiConfig({ ...valid, [name]: value })).toThrow(message);
  });

  it('reads INFERENCE_CORS_ORIGINS as a list of origins', () => {
    expect(loadApiConfig(valid).INFERENCE_CORS_ORIGINS).toEqual([]);
    expect(loadApiConfig({ ...valid, INFERENCE_CORS_ORIGINS: ' https://a.example.com, http://localhost:5173 ,' }).INFERENCE_CORS_ORIGINS).toEqual(['https://a.example.com', 'http://localhost:5173']);
  });

  it('names a missing required variable', () => {
    expect(() => loadApiConfig({ REDIS_URL: valid.REDIS_URL })).toThrow(/DATABASE_URL=null: required/);
  });
});
