// Nothing acknowledged is lost: write through the API, SIGKILL the server, restart it on the
// same data dir, and read everything back.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeCapacityProvidersCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ListAccountSettingsCommand,
  ListAttributesCommand,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  PutAccountSettingCommand,
  PutAttributesCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';

let dataDir = '';
let current: BerthProcess | undefined;
after(async () => {
  await current?.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('durability across SIGKILL', () => {
  it('reads back every acknowledged write after the server is killed and restarted', async () => {
    current = await startBerthServer();
    dataDir = current.dataDir;
    let ecs = ecsClient(current.url);

    for (let i = 0; i < 5; i++) await ecs.send(new CreateClusterCommand({ clusterName: `c${i}` }));
    const clusterArn = (await ecs.send(new CreateClusterCommand({ clusterName: 'tagged' }))).cluster!
      .clusterArn!;
    await ecs.send(
      new TagResourceCommand({ resourceArn: clusterArn, tags: [{ key: 'team', value: 'blue' }] }),
    );
    const arns: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: `fam${i % 3}`,
          containerDefinitions: [
            { name: 'app', image: 'busybox', memory: 64 + i, command: ['sleep', String(i)] },
          ],
        }),
      );
      arns.push(r.taskDefinition!.taskDefinitionArn!);
    }
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'fam0:1' }));
    await ecs.send(
      new CreateCapacityProviderCommand({
        name: 'asg-one',
        autoScalingGroupProvider: {
          autoScalingGroupArn:
            'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/one',
        },
      }),
    );
    await ecs.send(new PutAccountSettingCommand({ name: 'containerInsights', value: 'enabled' }));
    const inst = await ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: 'c1',
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 4096 },
        ],
      }),
    );
    const instArn = inst.containerInstance!.containerInstanceArn!;
    await ecs.send(
      new PutAttributesCommand({
        cluster: 'c1',
        attributes: [{ name: 'stack', value: 'prod', targetType: 'container-instance', targetId: instArn }],
      }),
    );

    // The last write was acknowledged: kill without warning.
    await current.kill('SIGKILL');
    current = await startBerthServer({ dataDir });
    ecs = ecsClient(current.url);

    const clusters = await ecs.send(new ListClustersCommand({}));
    assert.equal(clusters.clusterArns!.length, 6);
    const tags = await ecs.send(new ListTagsForResourceCommand({ resourceArn: clusterArn }));
    assert.deepEqual(tags.tags, [{ key: 'team', value: 'blue' }]);
    const defs = await ecs.send(new ListTaskDefinitionsCommand({ status: 'ACTIVE' }));
    assert.equal(defs.taskDefinitionArns!.length, 11);
    for (const [i, a] of arns.entries()) {
      const d = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: a }));
      assert.equal(d.taskDefinition!.containerDefinitions![0]!.memory, 64 + i);
      assert.deepEqual(d.taskDefinition!.containerDefinitions![0]!.command, ['sleep', String(i)]);
    }
    const inactive = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'fam0:1' }));
    assert.equal(inactive.taskDefinition!.status, 'INACTIVE');
    // Revision numbers continue after a restart.
    const next = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'fam0',
        containerDefinitions: [{ name: 'a', image: 'b', memory: 64 }],
      }),
    );
    assert.equal(next.taskDefinition!.revision, 5);
    const cps = await ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['asg-one'] }));
    assert.equal(cps.capacityProviders![0]!.status, 'ACTIVE');
    const settings = await ecs.send(new ListAccountSettingsCommand({ name: 'containerInsights' }));
    assert.equal(settings.settings![0]!.value, 'enabled');
    const instances = await ecs.send(new ListContainerInstancesCommand({ cluster: 'c1' }));
    assert.deepEqual(instances.containerInstanceArns, [instArn]);
    const attrs = await ecs.send(
      new ListAttributesCommand({ cluster: 'c1', targetType: 'container-instance', attributeName: 'stack' }),
    );
    assert.equal(attrs.attributes![0]!.value, 'prod');
    const c1 = await ecs.send(new DescribeClustersCommand({ clusters: ['c1'] }));
    assert.equal(c1.clusters![0]!.registeredContainerInstancesCount, 1);
  });
});
