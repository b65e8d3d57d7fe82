import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attachCommands, hostInterfaceName, macAddressFor } from './plumbing.js';

describe('namespace plumbing commands', () => {
  it('names the host end after the address, within the 15 characters Linux allows', () => {
    assert.equal(hostInterfaceName('198.19.0.5'), 'bvc6130005');
    assert.equal(hostInterfaceName('10.0.0.255'), 'bv0a0000ff');
    assert.notEqual(hostInterfaceName('198.19.0.5'), hostInterfaceName('198.19.0.6'));
    assert.ok(hostInterfaceName('255.255.255.255').length <= 15);
  });

  it("derives the MAC from the address as Docker does (02:42 + the address's bytes)", () => {
    assert.equal(macAddressFor('198.19.0.5'), '02:42:c6:13:00:05');
    assert.equal(macAddressFor('10.1.2.254'), '02:42:0a:01:02:fe');
  });

  it('creates the pair with eth0 inside, joins the bridge, then addresses and routes inside', () => {
    const cmds = attachCommands({
      pid: 4242,
      bridge: 'br-0123456789ab',
      ip: '198.19.0.5',
      prefixLength: 24,
      gateway: '198.19.0.1',
    });
    assert.deepEqual(cmds.host, [
      'link add bvc6130005 type veth peer name eth0 address 02:42:c6:13:00:05 netns 4242',
      'link set bvc6130005 master br-0123456789ab up',
    ]);
    assert.deepEqual(cmds.inside, [
      'addr add 198.19.0.5/24 dev eth0',
      'link set eth0 up',
      'route add default via 198.19.0.1 dev eth0',
    ]);
  });
});
