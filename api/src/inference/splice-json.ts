/*
 * Edits of a client's JSON body done on its bytes, so everything CIC does not set reaches vLLM exactly as
 * sent: JSON.parse + JSON.stringify would turn `"seed": 12345678901234567890` into 12345678901234567000 and
 * rewrite escapes and spacing. The input is always a body JSON.parse
 * already accepted (and whose depth was bounded), so the scanner need not report syntax errors. It works
 * on bytes: JSON's structural characters are ASCII and never occur inside a UTF-8 multi-byte sequence.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** One member of an object: its decoded key and where its value's bytes are. */
interface Member {
  key: string;
  valueStart: number;
  valueEnd: number;
}

function skipSpace(bytes: Buffer, i: number): number {
  while (isSpace(bytes[i])) i++;
  return i;
}

/** The index after the string that opens at `i`. */
function skipString(bytes: Buffer, i: number): number {
  for (i++; bytes[i] !== QUOTE; i++) if (bytes[i] === BACKSLASH) i++;
  return i + 1;
}

/** The index after the value that starts at `i` (iterative: nesting costs no stack). */
function skipValue(bytes: Buffer, i: number): number {
  const first = bytes[i];
  if (first === QUOTE) return skipString(bytes, i);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    while (i < bytes.length && bytes[i] !== COMMA && bytes[i] !== CLOSE_BRACE && bytes[i] !== CLOSE_BRACKET && !isSpace(bytes[i])) i++;
    return i;
  }
  let depth = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b === QUOTE) {
      i = skipString(bytes, i);
      continue;
    }
    if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
    else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && --depth === 0) return i + 1;
    i++;
  }
  return i;
}

/** The members of the object whose `{` is at `open`, in order (duplicate keys included). */
function membersOf(bytes: Buffer, open: number): Member[] {
  const members: Member[] = [];
  let i = skipSpace(bytes, open + 1);
  while (bytes[i] === QUOTE) {
    const keyEnd = skipString(bytes, i);
    // Keys may be escaped ("\u0073tream_options"): decode them as JSON.parse did.
    const key = JSON.parse(bytes.toString('utf8', i, keyEnd)) as string;
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) break;
    const valueStart = skipSpace(bytes, i + 1);
    const valueEnd = skipValue(bytes, valueStart);
    members.push({ key, valueStart, valueEnd });
    i = skipSpace(bytes, valueEnd);
    if (bytes[i] !== COMMA) break;
    i = skipSpace(bytes, i + 1);
  }
  return members;
}

/** The member JSON.parse (and vLLM's Python parser) would keep: the last one with the key. */
const lastMember = (members: Member[], key: string): Member | undefined => members.findLast((m) => m.key === key);

const replace = (bytes: Buffer, start: number, end: number, text: string): Buffer =>
  Buffer.concat([bytes.subarray(0, start), Buffer.from(text), bytes.subarray(end)]);

/** Adds `member` (`"key":value`) first in the object whose `{` is at `open`. */
function prependMember(bytes: Buffer, open: number, members: Member[], member: string): Buffer {
  return replace(bytes, open + 1, open + 1, members.length > 0 ? `${member},` : member);
}

/**
 * The body with `stream_options.include_usage` set to true (so a stream's usage can be metered), every
 * other byte as the client sent it. `body` must be a JSON object JSON.parse accepted.
 */
export function withStreamUsage(body: Buffer): Buffer {
  const root = skipSpace(body, 0);
  const members = membersOf(body, root);
  const options = lastMember(members, 'stream_options');
  if (!options) return prependMember(body, root, members, '"stream_options":{"include_usage":true}');
  if (body[options.valueStart] !== OPEN_BRACE) return replace(body, options.valueStart, options.valueEnd, '{"include_usage":true}');
  const inner = membersOf(body, options.valueStart);
  const includeUsage = lastMember(inner, 'include_usage');
  if (includeUsage) return replace(body, includeUsage.valueStart, includeUsage.valueEnd, 'true');
  return prependMember(body, options.valueStart, inner, '"include_usage":true');
}
