import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ConfigError } from '../lib/env.ts';

/**
 * Node API keys at rest. Every node CIC launches gets its own random key; vLLM requires it on /v1
 * (`VLLM_API_KEY`), and the proxy and the health checker send it. The proxy needs the plaintext to
 * call the node, so the key is stored encrypted (AES-256-GCM, key derived from `NODE_SECRET_KEY`), never
 * hashed; it never leaves the api and jobs processes except towards the node itself (docs/security.md#nodes-every-hop-to-a-vllm-server-is-authenticated).
 */
export interface NodeSecretBox {
  /** `v1.<iv>.<ciphertext>.<tag>` (base64url), for `nodes.api_key_ciphertext`. */
  seal(plaintext: string): string;
  /** The plaintext; throws NodeSecretError when the value was not sealed with this key or was altered. */
  open(sealed: string): string;
}

/** A sealed node key that does not open: another NODE_SECRET_KEY, or a damaged value. */
export class NodeSecretError extends Error {
  override name = 'NodeSecretError';
}

const FORMAT = 'v1';

export function createNodeSecretBox(secret: string): NodeSecretBox {
  // HKDF turns a long random string (generated like the other secrets: `openssl rand -hex 32`) into the AES key.
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'cic node api keys v1', 32));
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [FORMAT, iv, body, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed) {
      const [format, iv, body, tag, ...rest] = sealed.split('.');
      if (format !== FORMAT || !iv || body === undefined || !tag || rest.length) throw new NodeSecretError('not a sealed node key');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new NodeSecretError('the node key does not open with this NODE_SECRET_KEY (another key, or altered)');
      }
    },
  };
}

/** A fresh node API key: 256 random bits. */
export const generateNodeApiKey = (): string => `cicn_${randomBytes(32).toString('base64url')}`;

/** Used only outside production, so tests and a bare `npm run dev` work unconfigured (npm start generates a real one). */
export const DEV_NODE_SECRET_KEY = 'cic-dev-node-secret-key-not-for-production';

/** The box for NODE_SECRET_KEY, or the dev value outside production; a missing key in production stops start-up. */
export function nodeSecretBoxOf(config: { NODE_ENV: string; NODE_SECRET_KEY?: string | undefined }): NodeSecretBox {
  if (config.NODE_SECRET_KEY) return createNodeSecretBox(config.NODE_SECRET_KEY);
  if (config.NODE_ENV === 'production') {
    throw new ConfigError('NODE_SECRET_KEY: required in production (at least 32 characters, the same value for the API and the job workers)');
  }
  return createNodeSecretBox(DEV_NODE_SECRET_KEY);
}
