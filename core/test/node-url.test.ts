import { describe, expect, it } from 'vitest';
import { isLinkLocalAddress, nodeUrlProblem } from '../src/nodes/node-url.ts';

const strict = { allowLinkLocal: false };

describe('nodeUrlProblem', () => {
  it.each([
    'http://127.0.0.1:8000', 'https://vllm.internal.example.com/v1', 'http://10.0.0.5:8000', 'http://[2001:db8::1]:8000', 'http://169.255.0.1',
  ])('accepts %s', (url) => {
    expect(nodeUrlProblem(url, strict)).toBeNull();
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/', 'http://169.254.0.1:8000', 'http://169.254.169.254.', 'http://0xa9fea9fe/', 'http://2852039166/',
    'http://0251.0376.0251.0376/', 'http://169.254.43518/', 'http://[fd00:ec2::254]/', 'http://[FD00:EC2:0::254]/', 'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/', 'http://[::a9fe:a9fe]/', 'http://[64:ff9b::169.254.169.254]/', 'http://[fe80::1]/', 'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA.GOOGLE.INTERNAL./', 'http://metadata/', 'http://instance-data/latest/',
  ])('refuses the link-local or metadata address %s', (url) => {
    expect(nodeUrlProblem(url, strict)).toMatch(/link-local or cloud metadata address \(set NODE_ALLOW_LINK_LOCAL_URLS=true/);
  });

  it('allows link-local addresses when the admin setting says so, never other schemes', () => {
    expect(nodeUrlProblem('http://169.254.169.254/', { allowLinkLocal: true })).toBeNull();
    for (const url of ['file:///etc/passwd', 'ftp://10.0.0.1/', 'gopher://127.0.0.1:6379/_FLUSHALL', 'javascript:alert(1)']) {
      expect(nodeUrlProblem(url, { allowLinkLocal: true })).toBe('only http and https URLs are allowed');
    }
  });

  it('refuses credentials in the URL and what does not parse', () => {
    expect(nodeUrlProblem('http://user:pw@10.0.0.1:8000', strict)).toMatch(/credentials/);
    expect(nodeUrlProblem('not a url', strict)).toBe('not a valid URL');
  });
});

describe('isLinkLocalAddress', () => {
  it('knows the ranges and ignores names', () => {
    expect(isLinkLocalAddress('169.254.169.254')).toBe(true);
    expect(isLinkLocalAddress('fe80::abcd')).toBe(true);
    expect(isLinkLocalAddress('::ffff:169.254.1.1')).toBe(true);
    expect(isLinkLocalAddress('192.168.1.1')).toBe(false);
    expect(isLinkLocalAddress('example.com')).toBe(false);
  });
});
