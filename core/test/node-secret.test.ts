import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/lib/env.ts';
import { createNodeSecretBox, DEV_NODE_SECRET_KEY, generateNodeApiKey, NodeSecretError, nodeSecretBoxOf } from '../src/nodes/node-secret.ts';

const box = createNodeSecretBox('k'.repeat(64));

describe('node secret box', () => {
  it('seals a key so only the same NODE_SECRET_KEY opens it, with a fresh IV each time', () => {
    const key = generateNodeApiKey();
    expect(key).toMatch(/^cicn_[A-Za-z0-9_-]{43}$/);
    const sealed = box.seal(key);
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain(key.slice(5));
    expect(box.seal(key)).not.toBe(sealed);
    expect(box.open(sealed)).toBe(key);
    expect(() => createNodeSecretBox('other'.repeat(10)).open(sealed)).toThrow(NodeSecretError);
  });

  it('refuses an altered or malformed value', () => {
    const [v, iv, body, tag] = box.seal('secret').split('.');
    const flipped = `${body![0] === 'A' ? 'B' : 'A'}${body!.slice(1)}`;
    expect(() => box.open([v, iv, flipped, tag].join('.'))).toThrow(NodeSecretError);
    for (const bad of ['', 'secret', 'v2.a.b.c', 'v1.a.b', 'v1.a.b.c.d']) expect(() => box.open(bad)).toThrow(NodeSecretError);
  });

  it('requires NODE_SECRET_KEY in production and uses the dev key elsewhere', () => {
    expect(() => nodeSecretBoxOf({ NODE_ENV: 'production' })).toThrow(ConfigError);
    const sealed = nodeSecretBoxOf({ NODE_ENV: 'test' }).seal('x');
    expect(createNodeSecretBox(DEV_NODE_SECRET_KEY).open(sealed)).toBe('x');
    expect(nodeSecretBoxOf({ NODE_ENV: 'production', NODE_SECRET_KEY: 'k'.repeat(64) }).open(box.seal('y'))).toBe('y');
  });
});
