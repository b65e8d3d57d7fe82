// The control plane through @aws-sdk/client-ecs, unmodified: each operation group end to end
// against a real server process, including the errors the SDK surfaces as typed exceptions.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClusterContainsContainerInstancesException,
  ClusterNotFoundException,
  CreateClusterCommand,
  DeleteClusterCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterContainerInstanceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeCapacityProvidersCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeTaskDefinitionCommand,
  ECSServiceException,
  InvalidParameterException,
  ListClustersCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  PutClusterCapacityProvidersCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  UntagResourceCommand,
  TagResourceCommand,
  ListTagsForResourceCommand,
  UpdateContainerInstancesStateCommand,
  paginateListClusters,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';

let berth: BerthProcess;
let ecs: ECSClient;

before(async () => {
  berth = await startBerthServer();
  ecs = ecsClient(berth.url);
});
after(async () => {
  ecs.destroy();
  await berth.stop();
});

describe('clusters through the SDK', () => {
  it('defaults to the cluster named default and paginates ListClusters', async () => {
    const d = await ecs.send(new CreateClusterCommand({}));
    assert.equal(d.cluster!.clusterName, 'default');
    for (let i = 0; i < 4; i++) await ecs.send(new CreateClusterCommand({ clusterName: `page-${i}` }));
    const all: string[] = [];
    for await (const page of paginateListClusters({ client: ecs, pageSize: 2 }, {})) {
      assert.ok(page.clusterArns!.length <= 2);
      all.push(...page.clusterArns!);
    }
    assert.equal(all.length, 5);
    assert.equal(new Set(all).size, 5);
    const desc = await ecs.send(new DescribeClustersCommand({}));
    assert.equal(desc.clusters![0]!.clusterName, 'default');
  });

  it('answers MISSING for unknown clusters, and ClusterNotFoundException where one is required', async () => {
    const desc = await ecs.send(new DescribeClustersCommand({ clusters: ['ghost'] }));
    assert.deepEqual(desc.failures, [
      { arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/ghost', reason: 'MISSING' },
    ]);
    await assert.rejects(
      ecs.send(new RegisterContainerInstanceCommand({ cluster: 'ghost' })),
      (e: unknown) => e instanceof ClusterNotFoundException,
    );
  });

  it('refuses to delete a cluster that holds instances, then deletes it once they are gone', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'busy' }));
    const ci = await ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: 'busy',
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 2048 },
        ],
      }),
    );
    const arn = ci.containerInstance!.containerInstanceArn!;
    const counted = await ecs.send(new DescribeClustersCommand({ clusters: ['busy'] }));
    assert.equal(counted.clusters![0]!.registeredContainerInstancesCount, 1);
    await assert.rejects(
      ecs.send(new DeleteClusterCommand({ cluster: 'busy' })),
      (e: unknown) => e instanceof ClusterContainsContainerInstancesException,
    );
    await ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'busy', containerInstance: arn }));
    const gone = await ecs.send(new DeleteClusterCommand({ cluster: 'busy' }));
    assert.equal(gone.cluster!.status, 'INACTIVE');
    const listed = await ecs.send(new ListClustersCommand({}));
    assert.ok(!listed.clusterArns!.some((a) => a.endsWith('/busy')));
  });

  it('keeps FARGATE and FARGATE_SPOT for every account and takes them as cluster providers', async () => {
    const cps = await ecs.send(
      new DescribeCapacityProvidersCommand({ capacityProviders: ['FARGATE', 'FARGATE_SPOT'] }),
    );
    assert.deepEqual(
      cps.capacityProviders!.map((c) => [c.name, c.status]),
      [
        ['FARGATE', 'ACTIVE'],
        ['FARGATE_SPOT', 'ACTIVE'],
      ],
    );
    await ecs.send(new CreateClusterCommand({ clusterName: 'cp' }));
    const r = await ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: 'cp',
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [
          { capacityProvider: 'FARGATE', weight: 1, base: 1 },
          { capacityProvider: 'FARGATE_SPOT', weight: 3 },
        ],
      }),
    );
    assert.deepEqual(r.cluster!.capacityProviders, ['FARGATE', 'FARGATE_SPOT']);
    await assert.rejects(
      ecs.send(
        new PutClusterCapacityProvidersCommand({
          cluster: 'cp',
          capacityProviders: ['FARGATE'],
          defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        }),
      ),
      (e: unknown) => e instanceof ECSServiceException && e.$metadata.httpStatusCode === 400,
    );
  });
});

describe('task definitions through the SDK', () => {
  it('keeps every container definition field and counts revisions', async () => {
    const containerDefinitions = [
      {
        name: 'app',
        image: 'busybox:latest',
        cpu: 128,
        memory: 256,
        memoryReservation: 128,
        essential: true,
        command: ['sh', '-c', 'httpd -f -p 8080'],
        entryPoint: ['/bin/sh'],
        environment: [{ name: 'A', value: '1' }],
        workingDirectory: '/tmp',
        user: '1000',
        portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' as const }],
        dockerLabels: { tier: 'web' },
        ulimits: [{ name: 'nofile' as const, softLimit: 1024, hardLimit: 2048 }],
        readonlyRootFilesystem: true,
        hostname: 'app',
        dnsServers: ['10.0.0.2'],
        extraHosts: [{ hostname: 'db', ipAddress: '10.0.0.3' }],
        stopTimeout: 10,
        healthCheck: { command: ['CMD-SHELL', 'wget -q -O- localhost:8080 || exit 1'] },
        logConfiguration: { logDriver: 'json-file' as const, options: { 'max-size': '1m' } },
      },
      {
        name: 'sidecar',
        image: 'busybox',
        memory: 64,
        essential: false,
        dependsOn: [{ containerName: 'app', condition: 'HEALTHY' as const }],
      },
    ];
    const r1 = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'full',
        containerDefinitions,
        tags: [{ key: 'a', value: 'b' }],
      }),
    );
    const r2 = await ecs.send(new RegisterTaskDefinitionCommand({ family: 'full', containerDefinitions }));
    assert.equal(r1.taskDefinition!.revision, 1);
    assert.equal(r2.taskDefinition!.revision, 2);
    const d = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'full:1', include: ['TAGS'] }),
    );
    const app = d.taskDefinition!.containerDefinitions![0]!;
    assert.deepEqual(app.command, ['sh', '-c', 'httpd -f -p 8080']);
    assert.deepEqual(app.dockerLabels, { tier: 'web' });
    assert.deepEqual(app.ulimits, [{ name: 'nofile', softLimit: 1024, hardLimit: 2048 }]);
    assert.equal(app.readonlyRootFilesystem, true);
    assert.equal(app.healthCheck!.interval, 30);
    assert.equal(app.healthCheck!.retries, 3);
    assert.deepEqual(d.tags, [{ key: 'a', value: 'b' }]);
    const latest = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'full' }));
    assert.equal(latest.taskDefinition!.revision, 2);
    assert.equal(latest.tags, undefined);
  });

  it('rejects rule violations the model cannot express', async () => {
    const bad = async (
      input: ConstructorParameters<typeof RegisterTaskDefinitionCommand>[0],
      msg: RegExp,
    ) => {
      await assert.rejects(ecs.send(new RegisterTaskDefinitionCommand(input)), (e: unknown) => {
        assert.ok(e instanceof ECSServiceException, String(e));
        assert.match(e.name, /^(ClientException|InvalidParameterException)$/);
        assert.match(e.message, msg);
        return true;
      });
    };
    await bad({ family: 'm', containerDefinitions: [{ name: 'a', image: 'b' }] }, /memory/i);
    await bad(
      { family: 'm', containerDefinitions: [{ name: 'a', image: 'b', memory: 64, memoryReservation: 128 }] },
      /memory/i,
    );
    await bad(
      { family: 'm', containerDefinitions: [{ name: 'a', image: 'b', memory: 64, essential: false }] },
      /essential/i,
    );
    await bad(
      {
        family: 'm',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '4096',
        containerDefinitions: [{ name: 'a', image: 'b' }],
      },
      /memory|cpu/i,
    );
    await bad(
      {
        family: 'm',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'bridge',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'a', image: 'b' }],
      },
      /awsvpc/i,
    );
    await bad(
      {
        family: 'm',
        networkMode: 'host',
        containerDefinitions: [
          { name: 'a', image: 'b', memory: 64, portMappings: [{ containerPort: 80, hostPort: 81 }] },
        ],
      },
      /hostPort|port/i,
    );
    await bad(
      {
        family: 'm',
        containerDefinitions: [
          { name: 'a', image: 'b', memory: 64 },
          { name: 'c', image: 'b', memory: 64, dependsOn: [{ containerName: 'a', condition: 'COMPLETE' }] },
        ],
      },
      /COMPLETE|essential/i,
    );
  });

  it('converts cpu and memory unit strings', async () => {
    const r = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'units',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '1 vCPU',
        memory: '2GB',
        containerDefinitions: [{ name: 'a', image: 'b' }],
      }),
    );
    assert.equal(r.taskDefinition!.cpu, '1024');
    assert.equal(r.taskDefinition!.memory, '2048');
  });

  it('lists, deregisters and deletes, never reusing a revision', async () => {
    for (let i = 0; i < 3; i++) {
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'life',
          containerDefinitions: [{ name: 'a', image: 'b', memory: 32 }],
        }),
      );
    }
    const desc = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'life', sort: 'DESC' }));
    assert.deepEqual(
      desc.taskDefinitionArns!.map((a) => a.split(':').pop()),
      ['3', '2', '1'],
    );
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'life:3' }));
    const inactive = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'life', status: 'INACTIVE' }),
    );
    assert.deepEqual(
      inactive.taskDefinitionArns!.map((a) => a.split(':').pop()),
      ['3'],
    );
    const del = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['life:3', 'life:2'] }));
    assert.equal(del.taskDefinitions![0]!.status, 'DELETE_IN_PROGRESS');
    assert.equal(del.failures!.length, 1);
    const again = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'life',
        containerDefinitions: [{ name: 'a', image: 'b', memory: 32 }],
      }),
    );
    assert.equal(again.taskDefinition!.revision, 4);
    const fams = await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'lif' }));
    assert.deepEqual(fams.families, ['life']);
  });
});

describe('container instances and tags through the SDK', () => {
  it('registers, drains, describes with tags, and untags', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'fleet' }));
    const ci = await ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: 'fleet',
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 3900 },
        ],
        tags: [{ key: 'rack', value: 'r1' }],
      }),
    );
    const arn = ci.containerInstance!.containerInstanceArn!;
    assert.match(arn, /^arn:aws:ecs:us-east-1:123456789012:container-instance\/fleet\/[0-9a-f]+$/);
    const drained = await ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster: 'fleet',
        containerInstances: [arn, 'nope'],
        status: 'DRAINING',
      }),
    );
    assert.equal(drained.containerInstances![0]!.status, 'DRAINING');
    assert.equal(drained.failures![0]!.reason, 'MISSING');
    const d = await ecs.send(
      new DescribeContainerInstancesCommand({
        cluster: 'fleet',
        containerInstances: [arn],
        include: ['TAGS'],
      }),
    );
    assert.deepEqual(d.containerInstances![0]!.tags, [{ key: 'rack', value: 'r1' }]);
    const cpu = d.containerInstances![0]!.registeredResources!.find((r) => r.name === 'CPU');
    assert.equal(cpu!.integerValue, 2048);
    await ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'zone', value: 'a' }] }));
    await ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['rack'] }));
    const t = await ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }));
    assert.deepEqual(t.tags, [{ key: 'zone', value: 'a' }]);
    await assert.rejects(
      ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'aws:x', value: 'y' }] })),
      (e: unknown) => e instanceof InvalidParameterException,
    );
  });
});
