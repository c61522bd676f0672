import { isIPv4, isIPv6 } from 'node:net';

/** One CIDR range; addresses are held as bigints so IPv4 and IPv6 share the matching code. */
export interface Cidr {
  family: 4 | 6;
  base: bigint;
  prefix: number;
}

const V4_BITS = 32;
const V6_BITS = 128;

/** Parses a dotted-quad IPv4 address; null unless it is strictly valid. */
function parseIPv4(address: string): bigint | null {
  if (!isIPv4(address)) return null;
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** Parses an IPv6 address (compressed, with or without a trailing dotted quad); null unless valid. */
function parseIPv6(address: string): bigint | null {
  // A zone id ("fe80::1%eth0") does not change which range the address is in.
  const bare = address.split('%', 1)[0];
  if (!isIPv6(bare)) return null;
  let text = bare;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const rest = halves.length > 1 && halves[1] !== '' ? halves[1].split(':') : [];
  const groups =
    halves.length > 1 ? [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8) return null;
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function mask(prefix: number, bits: number): bigint {
  return prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

function cidr(text: string): Cidr {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  const prefix = match ? Number(match[2]) : NaN;
  const v4 = match ? parseIPv4(match[1]) : null;
  const v6 = match && v4 === null ? parseIPv6(match[1]) : null;
  if (v4 !== null && prefix <= V4_BITS) return { family: 4, base: v4 & mask(prefix, V4_BITS), prefix };
  if (v6 !== null && prefix <= V6_BITS) {
    // Written as ::ffff:a.b.c.d/n, a range means IPv4 addresses, which is how mapped addresses are judged.
    if (prefix >= 96 && v6 >> 32n === 0xffffn) {
      return { family: 4, base: v6 & 0xffffffffn & mask(prefix - 96, V4_BITS), prefix: prefix - 96 };
    }
    return { family: 6, base: v6 & mask(prefix, V6_BITS), prefix };
  }
  throw new Error(`Invalid CIDR range "${text.trim()}"`);
}

/** Parses a comma-separated CIDR list (blank entries ignored); throws on an invalid entry. */
export function parseCidrList(list: string | undefined): Cidr[] {
  return (list ?? '')
    .split(',')
    .filter((entry) => entry.trim() !== '')
    .map(cidr);
}

function contains(ranges: readonly Cidr[], family: 4 | 6, value: bigint): boolean {
  const bits = family === 4 ? V4_BITS : V6_BITS;
  return ranges.some((r) => r.family === family && (value & mask(r.prefix, bits)) === r.base);
}

/** Special-purpose IPv4 ranges (RFC 6890 and friends) a webhook has no business reaching. */
const BLOCKED_V4 = parseCidrList(
  [
    '0.0.0.0/8',
    '10.0.0.0/8',
    '100.64.0.0/10',
    '127.0.0.0/8',
    '169.254.0.0/16',
    '172.16.0.0/12',
    '192.0.0.0/24',
    '192.0.2.0/24',
    '192.88.99.0/24',
    '192.168.0.0/16',
    '198.18.0.0/15',
    '198.51.100.0/24',
    '203.0.113.0/24',
    '224.0.0.0/4',
    '240.0.0.0/4',
    '255.255.255.255/32',
  ].join(','),
);

const BLOCKED_V6 = parseCidrList(
  [
    // Deprecated IPv4-compatible addresses (::a.b.c.d); includes :: and ::1.
    '::/96',
    'fc00::/7',
    'fe80::/10',
    'ff00::/8',
    '2001:db8::/32',
    '100::/64',
    '64:ff9b::/96',
  ].join(','),
);

const MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96, value >> 32
const NAT64_PREFIX = 0x64ff9bn << 96n; // 64:ff9b::/96

/**
 * Decides whether a delivery may connect to an address. Everything in a private, local or
 * reserved range is refused unless an operator opened that range explicitly; anything that
 * does not parse as an address is refused too, so a surprise never fails open.
 */
export class SsrfGuard {
  private readonly allowed: Cidr[];

  constructor(allowedCidrs: string | undefined) {
    this.allowed = parseCidrList(allowedCidrs);
  }

  isBlocked(address: string): boolean {
    const text = address.trim().replace(/^\[(.*)\]$/, '$1');
    const v4 = parseIPv4(text);
    if (v4 !== null) return this.isBlockedV4(v4);
    const v6 = parseIPv6(text);
    if (v6 === null) return true;
    // The kernel routes ::ffff:a.b.c.d to the IPv4 host, so only that host matters.
    if (v6 >> 32n === MAPPED_PREFIX) return this.isBlockedV4(v6 & 0xffffffffn);
    const blocked = contains(BLOCKED_V6, 6, v6) && !contains(this.allowed, 6, v6);
    // A NAT64 gateway forwards to the embedded IPv4 host, so opening 64:ff9b::/96 must not open 10/8.
    if (!blocked && v6 >> 32n === NAT64_PREFIX >> 32n) return this.isBlockedV4(v6 & 0xffffffffn);
    return blocked;
  }

  private isBlockedV4(value: bigint): boolean {
    return contains(BLOCKED_V4, 4, value) && !contains(this.allowed, 4, value);
  }
}
