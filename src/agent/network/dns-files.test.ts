import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FALLBACK_NAMESERVERS, hostsFile, noneHostsFile, resolvConf } from './dns-files.js';

describe('resolv.conf for plumbed task namespaces', () => {
  it("keeps the host's resolvers, search list and options, minus loopback resolvers", () => {
    const host = [
      '# generated',
      'nameserver 127.0.0.53',
      'nameserver 10.0.0.2 ; the VPC resolver',
      'nameserver ::1',
      'search corp.example ec2.internal',
      'options ndots:2 timeout:1',
    ].join('\n');
    assert.equal(
      resolvConf({ hostResolvConf: host }),
      'nameserver 10.0.0.2\nsearch corp.example ec2.internal\noptions ndots:2 timeout:1\n',
    );
  });

  it('falls back on public resolvers when the host has only loopback ones, as Docker does', () => {
    assert.equal(
      resolvConf({ hostResolvConf: 'nameserver 127.0.0.11\n' }),
      FALLBACK_NAMESERVERS.map((s) => `nameserver ${s}\n`).join(''),
    );
    assert.equal(resolvConf({ hostResolvConf: '' }), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });

  it("puts the task definition's dnsServers and dnsSearchDomains in place of the host's", () => {
    const out = resolvConf({
      hostResolvConf: 'nameserver 10.0.0.2\nsearch host.example\n',
      dnsServers: ['10.9.9.9', '10.9.9.10'],
      dnsSearchDomains: ['svc.local'],
    });
    assert.equal(out, 'nameserver 10.9.9.9\nnameserver 10.9.9.10\nsearch svc.local\n');
  });

  it('the last search or domain line wins, as in the resolver', () => {
    assert.equal(
      resolvConf({ hostResolvConf: 'nameserver 1.1.1.1\nsearch a.example\ndomain b.example\n' }),
      'nameserver 1.1.1.1\nsearch b.example\n',
    );
  });
});

describe('hosts for plumbed task namespaces', () => {
  it('names localhost, the task by its private DNS name, then extraHosts', () => {
    assert.equal(
      hostsFile({
        ip: '198.19.0.5',
        hostname: 'ip-198-19-0-5.ec2.internal',
        extraHosts: [{ hostname: 'db', ipAddress: '10.1.1.1' }],
      }),
      [
        '127.0.0.1\tlocalhost',
        '::1\tlocalhost ip6-localhost ip6-loopback',
        '198.19.0.5\tip-198-19-0-5.ec2.internal',
        '10.1.1.1\tdb',
        '',
      ].join('\n'),
    );
  });
});

describe('hosts for containers on the none network', () => {
  it('is what Docker writes there (no name of its own: no address), then extraHosts', () => {
    // Docker 20.10, `docker run --network none busybox cat /etc/hosts`.
    const docker = [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
    ];
    assert.equal(noneHostsFile(), [...docker, ''].join('\n'));
    assert.equal(
      noneHostsFile([{ hostname: 'db', ipAddress: '10.1.1.1' }]),
      [...docker, '10.1.1.1\tdb', ''].join('\n'),
    );
  });
});
