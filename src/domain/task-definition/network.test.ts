import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkHostPortConflicts,
  effectiveNetworkMode,
  normalizePortMappings,
  validateNetworkFeatures,
} from './network.js';
import { assertEcsError, container } from './test-support.js';

describe('effectiveNetworkMode', () => {
  it('reads an absent mode as bridge', () => {
    assert.equal(effectiveNetworkMode(undefined), 'bridge');
    assert.equal(effectiveNetworkMode('host'), 'host');
  });
});

describe('normalizePortMappings', () => {
  it('defaults protocol to tcp and keeps other members', () => {
    const c = container('web', { portMappings: [{ containerPort: 80, name: 'http', appProtocol: 'http' }] });
    assert.deepEqual(normalizePortMappings(c, 'bridge'), [
      { containerPort: 80, name: 'http', appProtocol: 'http', protocol: 'tcp' },
    ]);
  });
  it('keeps udp', () => {
    const c = container('dns', { portMappings: [{ containerPort: 53, protocol: 'udp' }] });
    assert.equal(normalizePortMappings(c, undefined)[0]!.protocol, 'udp');
  });
  it('bridge: leaves hostPort absent or 0 for a dynamic port, keeps a static one', () => {
    const c = container('web', {
      portMappings: [
        { containerPort: 80 },
        { containerPort: 81, hostPort: 0 },
        { containerPort: 82, hostPort: 8082 },
      ],
    });
    const out = normalizePortMappings(c, undefined);
    assert.equal(out[0]!.hostPort, undefined);
    assert.equal(out[1]!.hostPort, 0);
    assert.equal(out[2]!.hostPort, 8082);
  });
  it('bridge: rejects host ports out of range', () => {
    assertEcsError(
      () =>
        normalizePortMappings(
          container('web', { portMappings: [{ containerPort: 80, hostPort: 70000 }] }),
          'bridge',
        ),
      'ClientException',
      /container 'web': hostPort 70000/,
    );
  });
  for (const mode of ['host', 'awsvpc'] as const) {
    it(`${mode}: fills hostPort with the container port`, () => {
      const out = normalizePortMappings(
        container('web', { portMappings: [{ containerPort: 80 }, { containerPort: 443, hostPort: 443 }] }),
        mode,
      );
      assert.deepEqual(
        out.map((p) => [p.containerPort, p.hostPort]),
        [
          [80, 80],
          [443, 443],
        ],
      );
    });
    it(`${mode}: rejects a different hostPort`, () => {
      assertEcsError(
        () =>
          normalizePortMappings(
            container('web', { portMappings: [{ containerPort: 80, hostPort: 81 }] }),
            mode,
          ),
        'ClientException',
        new RegExp(
          `When networkMode=${mode}, the host ports and container ports in port mappings must match: container 'web'`,
        ),
      );
    });
  }
  it('none: rejects any port mapping but accepts an empty list', () => {
    assertEcsError(
      () => normalizePortMappings(container('x', { portMappings: [{ containerPort: 80 }] }), 'none'),
      'ClientException',
      /networkMode=none: container 'x'/,
    );
    assert.deepEqual(normalizePortMappings(container('x', { portMappings: [] }), 'none'), []);
  });
  it('requires containerPort between 1 and 65535', () => {
    assertEcsError(
      () => normalizePortMappings(container('w', { portMappings: [{}] }), 'bridge'),
      'ClientException',
      /'w': containerPort is required/,
    );
    assertEcsError(
      () => normalizePortMappings(container('w', { portMappings: [{ containerPort: 0 }] }), 'bridge'),
      'ClientException',
      /containerPort 0 must be between 1 and 65535/,
    );
    assertEcsError(
      () => normalizePortMappings(container('w', { portMappings: [{ containerPort: 65536 }] }), 'awsvpc'),
      'ClientException',
      /65536/,
    );
  });
  it('accepts a containerPortRange alone and checks its form', () => {
    const out = normalizePortMappings(
      container('r', { portMappings: [{ containerPortRange: '8000-8010' }] }),
      'awsvpc',
    );
    assert.deepEqual(out, [{ containerPortRange: '8000-8010', protocol: 'tcp' }]);
    for (const bad of ['8010-8000', '80', '0-10', '1-70000', 'a-b']) {
      assertEcsError(
        () =>
          normalizePortMappings(container('r', { portMappings: [{ containerPortRange: bad }] }), 'bridge'),
        'ClientException',
        /containerPortRange/,
      );
    }
    assertEcsError(
      () =>
        normalizePortMappings(
          container('r', { portMappings: [{ containerPortRange: '1-2', containerPort: 1 }] }),
          'bridge',
        ),
      'ClientException',
      /either containerPort or containerPortRange/,
    );
    assertEcsError(
      () =>
        normalizePortMappings(
          container('r', { portMappings: [{ containerPortRange: '1-2', hostPort: 1 }] }),
          'bridge',
        ),
      'ClientException',
      /hostPort cannot be set with containerPortRange/,
    );
  });
  it('does not modify its input', () => {
    const c = container('web', { portMappings: [{ containerPort: 80 }] });
    normalizePortMappings(c, 'awsvpc');
    assert.deepEqual(c.portMappings, [{ containerPort: 80 }]);
  });
});

describe('checkHostPortConflicts', () => {
  it('rejects one static host port and protocol used twice across containers', () => {
    assertEcsError(
      () =>
        checkHostPortConflicts([
          container('a', { portMappings: [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }] }),
          container('b', { portMappings: [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }] }),
        ]),
      'ClientException',
      /Host port 80\/tcp is used more than once.*'a' and 'b'/,
    );
  });
  it('allows the same port on different protocols and repeated dynamic ports', () => {
    checkHostPortConflicts([
      container('a', {
        portMappings: [
          { containerPort: 53, hostPort: 53, protocol: 'tcp' },
          { containerPort: 53, hostPort: 53, protocol: 'udp' },
        ],
      }),
      container('b', { portMappings: [{ containerPort: 80, hostPort: 0 }, { containerPort: 80 }] }),
      container('c', { portMappings: [{ containerPort: 80, hostPort: 0 }] }),
    ]);
  });
});

describe('validateNetworkFeatures', () => {
  it('allows links between containers in bridge mode', () => {
    validateNetworkFeatures([container('web', { links: ['db:database'] }), container('db')], undefined);
    validateNetworkFeatures([container('web', { links: ['db'] }), container('db')], 'bridge');
  });
  it('rejects links outside bridge mode', () => {
    assertEcsError(
      () => validateNetworkFeatures([container('web', { links: ['db'] }), container('db')], 'awsvpc'),
      'ClientException',
      /Links are not supported when networkMode=awsvpc: container 'web'/,
    );
    assertEcsError(
      () => validateNetworkFeatures([container('web', { links: ['db'] }), container('db')], 'host'),
      'ClientException',
      /networkMode=host/,
    );
  });
  it('rejects links to unknown containers or to itself', () => {
    assertEcsError(
      () => validateNetworkFeatures([container('web', { links: ['cache:c'] })], 'bridge'),
      'ClientException',
      /no container named 'cache'/,
    );
    assertEcsError(
      () => validateNetworkFeatures([container('web', { links: ['web'] })], 'bridge'),
      'ClientException',
      /link to itself/,
    );
  });
  it('rejects hostname in awsvpc mode only', () => {
    validateNetworkFeatures([container('web', { hostname: 'web' })], 'bridge');
    assertEcsError(
      () => validateNetworkFeatures([container('web', { hostname: 'web' })], 'awsvpc'),
      'ClientException',
      /hostname parameter is not supported when networkMode=awsvpc: container 'web'/,
    );
  });
});
