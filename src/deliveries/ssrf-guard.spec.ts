import { parseCidrList, SsrfGuard } from './ssrf-guard.js';

describe('SsrfGuard', () => {
  const guard = new SsrfGuard(undefined);

  // [range, first address, last address]
  const blockedV4: Array<[string, string, string]> = [
    ['0.0.0.0/8', '0.0.0.0', '0.255.255.255'],
    ['10.0.0.0/8', '10.0.0.0', '10.255.255.255'],
    ['100.64.0.0/10 (CGNAT)', '100.64.0.0', '100.127.255.255'],
    ['127.0.0.0/8', '127.0.0.1', '127.255.255.255'],
    ['169.254.0.0/16 (link-local, metadata)', '169.254.0.0', '169.254.169.254'],
    ['172.16.0.0/12', '172.16.0.0', '172.31.255.255'],
    ['192.0.0.0/24', '192.0.0.0', '192.0.0.255'],
    ['192.0.2.0/24', '192.0.2.0', '192.0.2.255'],
    ['192.88.99.0/24', '192.88.99.0', '192.88.99.255'],
    ['192.168.0.0/16', '192.168.0.0', '192.168.255.255'],
    ['198.18.0.0/15', '198.18.0.0', '198.19.255.255'],
    ['198.51.100.0/24', '198.51.100.0', '198.51.100.255'],
    ['203.0.113.0/24', '203.0.113.0', '203.0.113.255'],
    ['224.0.0.0/4 (multicast)', '224.0.0.0', '239.255.255.255'],
    ['240.0.0.0/4 (reserved)', '240.0.0.0', '255.255.255.254'],
    ['255.255.255.255/32', '255.255.255.255', '255.255.255.255'],
  ];

  it.each(blockedV4)('blocks IPv4 %s', (_range, first, last) => {
    expect(guard.isBlocked(first)).toBe(true);
    expect(guard.isBlocked(last)).toBe(true);
  });

  it.each([
    ['just outside the ranges', ['9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '172.15.255.255']],
    ['just outside the ranges (2)', ['172.32.0.0', '192.0.1.0', '192.0.3.0', '192.167.255.255', '192.169.0.0']],
    [
      'just outside the ranges (3)',
      ['198.17.255.255', '198.20.0.0', '198.51.99.255', '203.0.112.255', '223.255.255.255'],
    ],
    ['public', ['93.184.216.34', '8.8.8.8', '1.1.1.1', '169.253.255.255', '126.255.255.255']],
  ])('allows IPv4 addresses %s', (_label, addresses) => {
    for (const address of addresses) expect([address, guard.isBlocked(address)]).toEqual([address, false]);
  });

  const blockedV6: Array<[string, string[]]> = [
    ['::/128 (unspecified)', ['::', '0:0:0:0:0:0:0:0']],
    ['::1/128 (loopback)', ['::1', '0:0:0:0:0:0:0:1', '[::1]']],
    ['fc00::/7 (unique local)', ['fc00::', 'fd12:3456:789a::1', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
    ['fe80::/10 (link-local)', ['fe80::1', 'febf:ffff::1', 'fe80::1%eth0']],
    ['ff00::/8 (multicast)', ['ff02::1', 'ff0e::101']],
    ['2001:db8::/32 (documentation)', ['2001:db8::', '2001:db8:ffff:ffff::1']],
    ['100::/64 (discard)', ['100::', '100::ffff:ffff:ffff:ffff']],
    ['64:ff9b::/96 (NAT64)', ['64:ff9b::a00:1', '64:ff9b::10.0.0.1', '64:ff9b::93.184.216.34']],
  ];

  it.each(blockedV6)('blocks IPv6 %s', (_range, addresses) => {
    for (const address of addresses) expect([address, guard.isBlocked(address)]).toEqual([address, true]);
  });

  it('allows public IPv6 addresses, including ones next to blocked ranges', () => {
    for (const address of ['2606:4700::1111', '2001:4860:4860::8888', 'fbff::1', '2001:db9::1', '100:0:0:1::']) {
      expect([address, guard.isBlocked(address)]).toEqual([address, false]);
    }
  });

  it('judges IPv4-mapped IPv6 addresses by the embedded IPv4 address', () => {
    for (const address of [
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '[::ffff:7f00:1]',
      '0:0:0:0:0:ffff:7f00:1',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '::ffff:10.1.2.3',
      '::ffff:192.168.1.1',
      '::FFFF:C0A8:0101',
    ]) {
      expect([address, guard.isBlocked(address)]).toEqual([address, true]);
    }
    expect(guard.isBlocked('::ffff:93.184.216.34')).toBe(false);
    expect(guard.isBlocked('::ffff:5db8:d822')).toBe(false);
  });

  it('blocks deprecated IPv4-compatible addresses', () => {
    expect(guard.isBlocked('::127.0.0.1')).toBe(true);
    expect(guard.isBlocked('::93.184.216.34')).toBe(true);
  });

  it('blocks anything that does not parse as an address', () => {
    for (const address of [
      '',
      'localhost',
      'example.com',
      '127.1',
      '2130706433',
      '0x7f000001',
      '0177.0.0.1',
      '256.0.0.1',
      '1.2.3.4.5',
      '::ffff:127.0.0.256',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1::2',
      '[93.184.216.34',
    ]) {
      expect([address, guard.isBlocked(address)]).toEqual([address, true]);
    }
  });

  describe('with an allow-list', () => {
    const open = new SsrfGuard('127.0.0.0/8, fd00::/8');

    it('opens the listed ranges, including their mapped forms', () => {
      expect(open.isBlocked('127.0.0.1')).toBe(false);
      expect(open.isBlocked('127.255.255.254')).toBe(false);
      expect(open.isBlocked('::ffff:127.0.0.1')).toBe(false);
      expect(open.isBlocked('::ffff:7f00:1')).toBe(false);
      expect(open.isBlocked('fd12::1')).toBe(false);
    });

    it('keeps every other range closed', () => {
      for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '169.254.169.254', '192.168.1.1', '::1', 'fc00::1']) {
        expect([address, open.isBlocked(address)]).toEqual([address, true]);
      }
    });

    it('does not open 127/8 for IPv6 loopback or IPv4-compatible forms', () => {
      expect(open.isBlocked('::1')).toBe(true);
      expect(open.isBlocked('::127.0.0.1')).toBe(true);
    });

    it('accepts a range written in mapped form as an IPv4 range', () => {
      const mapped = new SsrfGuard('::ffff:10.1.0.0/112');
      expect(mapped.isBlocked('10.1.2.3')).toBe(false);
      expect(mapped.isBlocked('::ffff:10.1.2.3')).toBe(false);
      expect(mapped.isBlocked('10.2.0.1')).toBe(true);
    });

    it('still judges the IPv4 host behind an opened NAT64 prefix', () => {
      const nat64 = new SsrfGuard('64:ff9b::/96');
      expect(nat64.isBlocked('64:ff9b::93.184.216.34')).toBe(false);
      expect(nat64.isBlocked('64:ff9b::10.0.0.1')).toBe(true);
      expect(nat64.isBlocked('64:ff9b::127.0.0.1')).toBe(true);
    });
  });
});

describe('parseCidrList', () => {
  it('parses IPv4 and IPv6 ranges, normalising host bits and skipping blanks', () => {
    expect(parseCidrList(' 127.0.0.1/8 , ,fd00::1/8')).toEqual([
      { family: 4, base: 0x7f000000n, prefix: 8 },
      { family: 6, base: 0xfdn << 120n, prefix: 8 },
    ]);
    expect(parseCidrList(undefined)).toEqual([]);
    expect(parseCidrList('')).toEqual([]);
    expect(parseCidrList('0.0.0.0/0')).toEqual([{ family: 4, base: 0n, prefix: 0 }]);
  });

  it('rejects invalid ranges', () => {
    for (const list of ['300.0.0.0/8', '10.0.0.0/33', '::/129', '10.0.0.0', 'example.com/8', '10.0.0.0/8,nope']) {
      expect(() => parseCidrList(list)).toThrow(/Invalid CIDR range/);
    }
    expect(() => new SsrfGuard('10.0.0.0/40')).toThrow(/Invalid CIDR range "10.0.0.0\/40"/);
  });
});
