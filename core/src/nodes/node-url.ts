import { BlockList, isIP } from 'node:net';

/**
 * Link-local addresses: the cloud metadata services live there (169.254.169.254 on AWS, GCP, Azure,
 * Oracle, DigitalOcean; fd00:ec2::254 on AWS over IPv6) and hand out the credentials of the machine
 * that asks. A node URL pointing there would make the proxy and the health checker fetch them.
 * IPv4-mapped IPv6 (::ffff:169.254.x.x) is matched by BlockList itself; the IPv4-compatible (::a9fe:…)
 * and NAT64 (64:ff9b::a9fe:…) spellings are added here.
 */
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');
LINK_LOCAL.addSubnet('::a9fe:0', 112, 'ipv6');
LINK_LOCAL.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');

/** Names of metadata services that resolve to a link-local address inside their cloud. */
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** Whether `address` (an IP literal, IPv6 without brackets) is link-local or a metadata address. */
export function isLinkLocalAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && LINK_LOCAL.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export interface NodeUrlPolicy {
  /** NODE_ALLOW_LINK_LOCAL_URLS: a platform admin's opt-in for nodes on link-local addresses. @defaultValue false */
  allowLinkLocal: boolean;
}

/**
 * Why CIC must not call `url` as a node's base URL, or null when it may: http(s) only, no credentials in
 * the URL (a STATIC node's key goes in its apiKey), and no link-local or metadata host unless allowed.
 * Literal addresses in any spelling the URL parser accepts (decimal, hex, octal, IPv4-mapped) and the
 * well-known metadata names are caught here; a name that merely resolves to such an address is checked
 * when the job worker registers the node (jobs/src/providers/static-provider.ts), not on every request.
 */
export function nodeUrlProblem(url: string, policy: NodeUrlPolicy): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'only http and https URLs are allowed';
  if (parsed.username || parsed.password) return 'credentials in the URL are not allowed (a STATIC node takes its key in apiKey)';
  if (policy.allowLinkLocal) return null;
  // The WHATWG parser already turned 0xa9fea9fe, 2852039166 and 0251.0376.0251.0376 into 169.254.169.254.
  const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (isLinkLocalAddress(host) || METADATA_HOSTS.has(host)) {
    return `${host} is a link-local or cloud metadata address (set NODE_ALLOW_LINK_LOCAL_URLS=true to allow it)`;
  }
  return null;
}
