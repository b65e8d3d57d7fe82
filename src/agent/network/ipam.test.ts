import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocateAddress,
  gatewayOf,
  inCidr,
  intToIp,
  ipToInt,
  networkInterfaceId,
  parseCidr,
  privateDnsName,
} from './ipam.js';

describe('ipam arithmetic', () => {
  it('converts addresses both ways', () => {
    assert.equal(ipToInt('198.19.0.5'), 198 * 2 ** 24 + 19 * 2 ** 16 + 5);
    assert.equal(intToIp(ipToInt('255.255.255.255')), '255.255.255.255');
    assert.equal(intToIp(ipToInt('10.0.200.1')), '10.0.200.1');
    assert.throws(() => ipToInt('1.2.3'), /invalid IPv4/);
    assert.throws(() => ipToInt('1.2.3.256'), /invalid IPv4/);
  });
  it('parses and canonicalises a CIDR', () => {
    const c = parseCidr('198.19.0.77/24');
    assert.equal(c.text, '198.19.0.0/24');
    assert.equal(c.prefix, 24);
    assert.equal(gatewayOf(c), '198.19.0.1');
    assert.ok(inCidr('198.19.0.254', c));
    assert.ok(!inCidr('198.19.1.0', c));
    assert.throws(() => parseCidr('198.19.0.0'), /invalid CIDR/);
    assert.throws(() => parseCidr('198.19.0.0/33'), /prefix/);
  });
});

describe('allocateAddress', () => {
  const c = parseCidr('198.19.0.0/29'); // .2 to .6 usable
  it('starts after the gateway and skips taken addresses', () => {
    assert.equal(allocateAddress(c, new Set()), '198.19.0.2');
    assert.equal(allocateAddress(c, new Set(['198.19.0.2', '198.19.0.3'])), '198.19.0.4');
  });
  it('never hands out the network, gateway or broadcast address', () => {
    const seen = new Set<string>();
    for (;;) {
      const ip = allocateAddress(c, seen);
      if (ip === undefined) break;
      seen.add(ip);
    }
    assert.deepEqual([...seen].sort(), [
      '198.19.0.2',
      '198.19.0.3',
      '198.19.0.4',
      '198.19.0.5',
      '198.19.0.6',
    ]);
  });
  it('goes round robin after the last allocation and wraps', () => {
    assert.equal(allocateAddress(c, new Set(), '198.19.0.3'), '198.19.0.4');
    assert.equal(allocateAddress(c, new Set(), '198.19.0.6'), '198.19.0.2');
    assert.equal(allocateAddress(c, new Set(['198.19.0.2']), '198.19.0.6'), '198.19.0.3');
    // A `last` outside the subnet (the subnet changed) is ignored.
    assert.equal(allocateAddress(c, new Set(), '10.0.0.9'), '198.19.0.2');
  });
  it('answers undefined when the subnet is full', () => {
    const all = new Set(['198.19.0.2', '198.19.0.3', '198.19.0.4', '198.19.0.5', '198.19.0.6']);
    assert.equal(allocateAddress(c, all), undefined);
  });
});

describe('ENI naming', () => {
  it('spells DNS names as EC2 does', () => {
    assert.equal(privateDnsName('198.19.0.5', 'us-east-1'), 'ip-198-19-0-5.ec2.internal');
    assert.equal(privateDnsName('10.1.2.3', 'eu-west-1'), 'ip-10-1-2-3.eu-west-1.compute.internal');
  });
  it('makes eni ids of 17 hex digits', () => {
    assert.match(networkInterfaceId('0123456789abcdef0123'), /^eni-[0-9a-f]{17}$/);
    assert.throws(() => networkInterfaceId('xyz'), /17 hex/);
  });
});
