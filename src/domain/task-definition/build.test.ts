import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RegisterTaskDefinitionRequest } from '../../generated/ecs/types.js';
import { buildTaskDefinition, taskDefinitionOf, withRevision } from './build.js';
import { assertEcsError, container } from './test-support.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const ctx = { now: NOW, principalArn: 'arn:aws:iam::123456789012:root' };
const scope = { account: '123456789012', region: 'us-east-1' };
const build = (req: RegisterTaskDefinitionRequest) => buildTaskDefinition(req, ctx);

describe('buildTaskDefinition', () => {
  it('stores what ECS stores for a minimal EC2 definition', () => {
    const draft = build({
      family: 'sleep360',
      containerDefinitions: [
        { name: 'sleep', image: 'busybox', cpu: 10, memory: 10, command: ['sleep', '360'] },
      ],
    });
    assert.deepEqual(draft, {
      containerDefinitions: [
        {
          name: 'sleep',
          image: 'busybox',
          cpu: 10,
          memory: 10,
          command: ['sleep', '360'],
          essential: true,
          portMappings: [],
          environment: [],
          mountPoints: [],
          volumesFrom: [],
        },
      ],
      family: 'sleep360',
      volumes: [],
      status: 'ACTIVE',
      requiresAttributes: [],
      placementConstraints: [],
      compatibilities: ['EC2', 'EXTERNAL'],
      registeredAt: NOW / 1000,
      registeredBy: 'arn:aws:iam::123456789012:root',
      tags: [],
    });
  });
  it('stores no networkMode when none is given', () => {
    assert.ok(!('networkMode' in build({ family: 'f', containerDefinitions: [container('a')] })));
  });
  it('defaults container cpu to 0 and keeps essential=false', () => {
    const d = build({
      family: 'f',
      containerDefinitions: [container('a'), container('b', { essential: false })],
    });
    assert.deepEqual(
      d.containerDefinitions!.map((c) => [c.cpu, c.essential]),
      [
        [0, true],
        [0, false],
      ],
    );
  });
  it('keeps every container definition member as given', () => {
    const given = {
      name: 'app',
      image: 'registry.local/app@sha256:abc',
      memory: 256,
      memoryReservation: 128,
      links: ['db'],
      entryPoint: ['/bin/sh'],
      command: ['-c', 'run'],
      environment: [{ name: 'A', value: '1' }],
      environmentFiles: [{ type: 's3' as const, value: 'arn:aws:s3:::b/k' }],
      secrets: [{ name: 'S', valueFrom: '/p' }],
      startTimeout: 30,
      stopTimeout: 10,
      hostname: 'app',
      user: '1000:1000',
      workingDirectory: '/srv',
      disableNetworking: false,
      privileged: true,
      readonlyRootFilesystem: true,
      dnsServers: ['10.0.0.2'],
      dnsSearchDomains: ['local'],
      extraHosts: [{ hostname: 'h', ipAddress: '10.0.0.3' }],
      dockerSecurityOptions: ['no-new-privileges'],
      interactive: true,
      pseudoTerminal: true,
      dockerLabels: { tier: 'web' },
      ulimits: [{ name: 'nofile' as const, softLimit: 1024, hardLimit: 2048 }],
      logConfiguration: { logDriver: 'json-file' as const, options: { 'max-size': '1m' } },
      systemControls: [{ namespace: 'net.core.somaxconn', value: '1024' }],
      linuxParameters: {
        capabilities: { add: ['NET_ADMIN'] },
        initProcessEnabled: true,
        tmpfs: [{ containerPath: '/t', size: 64 }],
      },
      restartPolicy: { enabled: true, ignoredExitCodes: [0], restartAttemptPeriod: 60 },
      versionConsistency: 'disabled' as const,
      credentialSpecs: ['credentialspec:arn'],
    };
    const d = build({ family: 'f', containerDefinitions: [given, container('db')] });
    const app = d.containerDefinitions![0]!;
    for (const [k, v] of Object.entries(given)) assert.deepEqual(app[k as keyof typeof app], v, k);
  });
  it('keeps task-level members as given', () => {
    const d = build({
      family: 'f',
      taskRoleArn: 'arn:aws:iam::1:role/t',
      executionRoleArn: 'arn:aws:iam::1:role/e',
      networkMode: 'host',
      pidMode: 'host',
      ipcMode: 'host',
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      ephemeralStorage: { sizeInGiB: 30 },
      enableFaultInjection: true,
      proxyConfiguration: {
        type: 'APPMESH',
        containerName: 'envoy',
        properties: [{ name: 'AppPorts', value: '80' }],
      },
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t3.*' }],
      volumes: [{ name: 'v', host: { sourcePath: '/srv' } }],
      containerDefinitions: [container('app'), container('envoy')],
    });
    assert.equal(d.taskRoleArn, 'arn:aws:iam::1:role/t');
    assert.equal(d.executionRoleArn, 'arn:aws:iam::1:role/e');
    assert.equal(d.networkMode, 'host');
    assert.equal(d.pidMode, 'host');
    assert.equal(d.ipcMode, 'host');
    assert.deepEqual(d.runtimePlatform, { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' });
    assert.deepEqual(d.ephemeralStorage, { sizeInGiB: 30 });
    assert.equal(d.enableFaultInjection, true);
    assert.equal(d.proxyConfiguration!.containerName, 'envoy');
    assert.deepEqual(d.placementConstraints, [
      { type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t3.*' },
    ]);
    assert.deepEqual(d.volumes, [{ name: 'v', host: { sourcePath: '/srv' } }]);
  });
  it('converts task cpu and memory to unit strings', () => {
    const d = build({
      family: 'f',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '1 vCPU',
      memory: '2GB',
      containerDefinitions: [{ name: 'a', image: 'b' }],
    });
    assert.equal(d.cpu, '1024');
    assert.equal(d.memory, '2048');
    assert.deepEqual(d.requiresCompatibilities, ['FARGATE']);
    assert.deepEqual(d.compatibilities, ['EC2', 'FARGATE']);
    assert.deepEqual(d.requiresAttributes, [{ name: 'ecs.capability.task-eni' }]);
  });
  it('normalises port mappings and health checks', () => {
    const d = build({
      family: 'f',
      networkMode: 'awsvpc',
      containerDefinitions: [
        container('web', {
          portMappings: [{ containerPort: 80 }],
          healthCheck: { command: ['CMD', 'true'], retries: 5 },
        }),
      ],
    });
    const web = d.containerDefinitions![0]!;
    assert.deepEqual(web.portMappings, [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }]);
    assert.deepEqual(web.healthCheck, {
      command: ['CMD', 'true'],
      interval: 30,
      timeout: 5,
      retries: 5,
      startPeriod: 0,
    });
  });
  it('copies tags and does not modify the request', () => {
    const req: RegisterTaskDefinitionRequest = {
      family: 'f',
      networkMode: 'host',
      containerDefinitions: [container('web', { portMappings: [{ containerPort: 80 }] })],
      tags: [{ key: 'team', value: 'blue' }],
    };
    const snapshot = structuredClone(req);
    const d = build(req);
    assert.deepEqual(d.tags, [{ key: 'team', value: 'blue' }]);
    assert.deepEqual(req, snapshot);
    assert.notEqual(d.tags, req.tags);
  });
  it('runs every family of rules', () => {
    const cases: [RegisterTaskDefinitionRequest, RegExp, 'ClientException' | 'InvalidParameterException'][] =
      [
        [
          { family: 'bad family', containerDefinitions: [container('a')] },
          /Family 'bad family' is invalid/,
          'ClientException',
        ],
        [{ family: 'f', containerDefinitions: [] }, /Container list cannot be empty/, 'ClientException'],
        [
          { family: 'f', containerDefinitions: [container('a')], tags: [{ key: 'aws:x' }] },
          /reserved prefix/,
          'InvalidParameterException',
        ],
        [
          { family: 'f', cpu: 'many', containerDefinitions: [container('a')] },
          /'cpu' setting for task/,
          'ClientException',
        ],
        [
          { family: 'f', containerDefinitions: [{ name: 'a', image: 'b' }] },
          /At least one of 'memory' or 'memoryReservation'/,
          'ClientException',
        ],
        [
          { family: 'f', cpu: '256', containerDefinitions: [container('a', { cpu: 512 })] },
          /sum of all container 'cpu'/,
          'ClientException',
        ],
        [
          {
            family: 'f',
            requiresCompatibilities: ['FARGATE'],
            networkMode: 'awsvpc',
            cpu: '256',
            memory: '4096',
            containerDefinitions: [container('a')],
          },
          /No Fargate configuration/,
          'ClientException',
        ],
        [
          {
            family: 'f',
            networkMode: 'awsvpc',
            containerDefinitions: [
              container('a', { portMappings: [{ containerPort: 80 }] }),
              container('b', { portMappings: [{ containerPort: 80 }] }),
            ],
          },
          /Host port 80\/tcp is used more than once/,
          'ClientException',
        ],
        [
          {
            family: 'f',
            networkMode: 'host',
            containerDefinitions: [container('a', { links: ['b'] }), container('b')],
          },
          /Links are not supported/,
          'ClientException',
        ],
        [
          {
            family: 'f',
            containerDefinitions: [
              container('a', { mountPoints: [{ sourceVolume: 'v', containerPath: '/v' }] }),
            ],
          },
          /sourceVolume 'v'/,
          'ClientException',
        ],
        [
          {
            family: 'f',
            containerDefinitions: [
              container('a'),
              container('b', { dependsOn: [{ containerName: 'a', condition: 'SUCCESS' }] }),
            ],
          },
          /SUCCESS is not allowed on an essential container/,
          'ClientException',
        ],
        [
          {
            family: 'f',
            containerDefinitions: [container('a', { healthCheck: { command: ['CMD', 'x'], interval: 1 } })],
          },
          /interval/,
          'ClientException',
        ],
        [
          {
            family: 'f',
            placementConstraints: [{ type: 'memberOf' }],
            containerDefinitions: [container('a')],
          },
          /expression is required/,
          'ClientException',
        ],
        [
          { family: 'f', ephemeralStorage: { sizeInGiB: 10 }, containerDefinitions: [container('a')] },
          /sizeInGiB/,
          'ClientException',
        ],
        [
          {
            family: 'f',
            proxyConfiguration: { containerName: 'envoy' },
            containerDefinitions: [container('a')],
          },
          /proxyConfiguration/,
          'ClientException',
        ],
      ];
    for (const [req, message, code] of cases) assertEcsError(() => build(req), code, message);
  });
});

describe('withRevision and taskDefinitionOf', () => {
  it('stamps the ARN and revision and leaves tags out of the wire shape', () => {
    const draft = build({
      family: 'web',
      containerDefinitions: [container('a')],
      tags: [{ key: 'k', value: 'v' }],
    });
    const rec = withRevision(draft, scope, 7);
    assert.equal(rec.taskDefinitionArn, 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7');
    assert.equal(rec.revision, 7);
    assert.deepEqual(rec.tags, [{ key: 'k', value: 'v' }]);
    const wire = taskDefinitionOf(rec);
    assert.ok(!('tags' in wire));
    assert.equal(wire.revision, 7);
    assert.equal(wire.family, 'web');
  });
});
