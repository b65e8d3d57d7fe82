import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Attribute } from '../../generated/ecs/types.js';
import type { ClusterRecord, ContainerInstanceRecord } from '../../domain/records.js';
import { keys } from '../../store/keys.js';
import type { RequestContext } from '../context.js';
import { testContext } from './test-context.js';
import { attributeOperations as ops } from './attributes.js';
import { containerInstanceOperations } from './container-instances.js';

const ACCOUNT_ARN = 'arn:aws:ecs:us-east-1:123456789012';

async function seedCluster(ctx: RequestContext, name: string) {
  const value: ClusterRecord = {
    clusterName: name,
    clusterArn: `${ACCOUNT_ARN}:cluster/${name}`,
    status: 'ACTIVE',
    tags: [],
  };
  await ctx.store.txn([], [{ kind: 'put', key: keys.cluster(ctx, name), value }]);
}

/** Registers an instance in `cluster` and returns its id and ARN. */
async function instance(ctx: RequestContext, cluster = 'prod', attributes: Attribute[] = []) {
  const out = await containerInstanceOperations.RegisterContainerInstance!(ctx, {
    cluster,
    totalResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 1024 },
    ],
    instanceIdentityDocument: JSON.stringify({ instanceId: 'i-0123456789abcdef0', instanceType: 't3.micro' }),
    attributes,
  });
  const arn = out.containerInstance!.containerInstanceArn!;
  return { arn, id: arn.split('/').pop()!, key: keys.containerInstance(ctx, cluster, arn.split('/').pop()!) };
}

async function record(ctx: RequestContext, key: string) {
  return (await ctx.store.get<ContainerInstanceRecord>(key))!.value;
}

function customOf(r: ContainerInstanceRecord): Record<string, string | undefined> {
  return Object.fromEntries(
    (r.attributes ?? []).filter((a) => !a.name.startsWith('ecs.')).map((a) => [a.name, a.value]),
  );
}

function fails(code: string, pattern?: RegExp) {
  return (e: unknown): boolean => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (pattern) assert.match(err.message ?? '', pattern);
    return true;
  };
}

async function setup() {
  const ctx = testContext();
  await seedCluster(ctx, 'prod');
  return ctx;
}

describe('PutAttributes', () => {
  it('puts attributes by ARN or by id with targetType, echoes them and bumps the version', async () => {
    const ctx = await setup();
    const ci = await instance(ctx);
    const attributes: Attribute[] = [
      { name: 'stack', value: 'prod', targetId: ci.arn },
      { name: 'tier', value: 'web', targetType: 'container-instance', targetId: ci.id },
      { name: 'gpu-ready', targetType: 'container-instance', targetId: ci.id },
    ];
    const out = await ops.PutAttributes!(ctx, { cluster: 'prod', attributes });
    assert.deepEqual(out.attributes, attributes);
    const r = await record(ctx, ci.key);
    assert.deepEqual(customOf(r), { 'gpu-ready': undefined, stack: 'prod', tier: 'web' });
    assert.equal(r.version, 2, 'one call, one version bump');
    assert.ok(
      r.attributes!.some((a) => a.name === 'ecs.instance-type'),
      'built-ins stay',
    );
  });

  it('replaces a value; putting the same value again changes nothing', async () => {
    const ctx = await setup();
    const ci = await instance(ctx);
    await ops.PutAttributes!(ctx, {
      cluster: 'prod',
      attributes: [{ name: 'stack', value: 'blue', targetId: ci.arn }],
    });
    await ops.PutAttributes!(ctx, {
      cluster: 'prod',
      attributes: [{ name: 'stack', value: 'green', targetId: ci.arn }],
    });
    assert.equal(customOf(await record(ctx, ci.key))['stack'], 'green');
    assert.equal((await record(ctx, ci.key)).version, 3);
    await ops.PutAttributes!(ctx, {
      cluster: 'prod',
      attributes: [{ name: 'stack', value: 'green', targetId: ci.arn }],
    });
    assert.equal((await record(ctx, ci.key)).version, 3);
  });

  it('accepts the old short ARN form of the target', async () => {
    const ctx = await setup();
    const ci = await instance(ctx);
    await ops.PutAttributes!(ctx, {
      cluster: 'prod',
      attributes: [{ name: 'x', value: '1', targetId: `${ACCOUNT_ARN}:container-instance/${ci.id}` }],
    });
    assert.equal(customOf(await record(ctx, ci.key))['x'], '1');
  });

  it('enforces 10 custom attributes per instance, atomically across targets', async () => {
    const ctx = await setup();
    const a = await instance(ctx);
    const b = await instance(
      ctx,
      'prod',
      Array.from({ length: 9 }, (_, i) => ({ name: `pre${i}` })),
    );
    await assert.rejects(
      ops.PutAttributes!(ctx, {
        cluster: 'prod',
        attributes: [
          { name: 'fine', value: 'yes', targetId: a.arn },
          { name: 'ten', targetId: b.arn },
          { name: 'eleven', targetId: b.arn },
        ],
      }),
      fails('AttributeLimitExceededException', /up to 10 custom attributes/),
    );
    assert.deepEqual(customOf(await record(ctx, a.key)), {}, 'nothing written to the other target either');
    assert.equal(Object.keys(customOf(await record(ctx, b.key))).length, 9);
    await ops.PutAttributes!(ctx, { cluster: 'prod', attributes: [{ name: 'ten', targetId: b.arn }] });
    assert.equal(Object.keys(customOf(await record(ctx, b.key))).length, 10);
  });

  it('refuses targets that are unknown, deregistered or in another cluster', async () => {
    const ctx = await setup();
    await seedCluster(ctx, 'other');
    const ci = await instance(ctx);
    const elsewhere = await instance(ctx, 'other');
    const put = (targetId: string) =>
      ops.PutAttributes!(ctx, {
        cluster: 'prod',
        attributes: [{ name: 'n', targetType: 'container-instance', targetId }],
      });
    await assert.rejects(
      put('ffffffffffffffffffffffffffffffff'),
      fails('TargetNotFoundException', /cluster prod/),
    );
    await assert.rejects(put(elsewhere.arn), fails('TargetNotFoundException'));
    await assert.rejects(put('no/such'), fails('TargetNotFoundException'));
    await containerInstanceOperations.DeregisterContainerInstance!(ctx, {
      cluster: 'prod',
      containerInstance: ci.arn,
    });
    await assert.rejects(put(ci.arn), fails('TargetNotFoundException'));
  });

  it('validates the request', async () => {
    const ctx = await setup();
    const ci = await instance(ctx);
    const put = (attributes: Attribute[], cluster = 'prod') =>
      ops.PutAttributes!(ctx, { cluster, attributes });
    await assert.rejects(put([]), fails('InvalidParameterException', /attributes cannot be empty/));
    await assert.rejects(
      put(Array.from({ length: 11 }, (_, i) => ({ name: `a${i}`, targetId: ci.arn }))),
      fails('InvalidParameterException', /at most 10 items per call/),
    );
    await assert.rejects(
      put([{ name: 'n' }]),
      fails('InvalidParameterException', /attributes\[0\]\.targetId is required/),
    );
    await assert.rejects(
      put([{ name: 'n', targetId: ci.id }]),
      fails('InvalidParameterException', /targetType is required when targetId is a short id/),
    );
    await assert.rejects(
      put([{ name: 'n', targetType: 'service' as 'container-instance', targetId: ci.arn }]),
      fails('InvalidParameterException', /targetType must be container-instance/),
    );
    await assert.rejects(
      put([{ name: 'bad name', targetId: ci.arn }]),
      fails('InvalidParameterException', /'bad name' is invalid/),
    );
    await assert.rejects(
      put([{ name: 'n', value: ' padded', targetId: ci.arn }]),
      fails('InvalidParameterException', /start or end with a space/),
    );
    await assert.rejects(
      put([{ name: 'ecs.instance-type', value: 'x', targetId: ci.arn }]),
      fails('InvalidParameterException', /built-in attribute/),
    );
    await assert.rejects(put([{ name: 'n', targetId: ci.arn }], 'nope'), fails('ClusterNotFoundException'));
  });
});

describe('DeleteAttributes', () => {
  it('removes custom attributes, ignores absent ones and bumps the version', async () => {
    const ctx = await setup();
    const ci = await instance(ctx, 'prod', [
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
    ]);
    const attributes: Attribute[] = [
      { name: 'a', targetId: ci.arn },
      { name: 'never-set', targetId: ci.arn },
    ];
    const out = await ops.DeleteAttributes!(ctx, { cluster: 'prod', attributes });
    assert.deepEqual(out.attributes, attributes);
    const r = await record(ctx, ci.key);
    assert.deepEqual(customOf(r), { b: '2' });
    assert.equal(r.version, 2);
    await ops.DeleteAttributes!(ctx, { cluster: 'prod', attributes: [{ name: 'a', targetId: ci.arn }] });
    assert.equal((await record(ctx, ci.key)).version, 2, 'nothing to delete, nothing written');
  });

  it('refuses built-in attributes, unknown targets and unknown clusters', async () => {
    const ctx = await setup();
    const ci = await instance(ctx);
    await assert.rejects(
      ops.DeleteAttributes!(ctx, {
        cluster: 'prod',
        attributes: [{ name: 'ecs.os-type', targetId: ci.arn }],
      }),
      fails('InvalidParameterException', /cannot be deleted/),
    );
    await assert.rejects(
      ops.DeleteAttributes!(ctx, {
        cluster: 'prod',
        attributes: [
          { name: 'x', targetId: `${ACCOUNT_ARN}:container-instance/prod/ffffffffffffffffffffffffffffffff` },
        ],
      }),
      fails('TargetNotFoundException'),
    );
    await assert.rejects(
      ops.DeleteAttributes!(ctx, { cluster: 'nope', attributes: [{ name: 'x', targetId: ci.arn }] }),
      fails('ClusterNotFoundException'),
    );
  });
});

describe('ListAttributes', () => {
  async function twoInstances() {
    const ctx = await setup();
    const a = await instance(ctx, 'prod', [{ name: 'stack', value: 'prod' }]);
    const b = await instance(ctx, 'prod', [
      { name: 'stack', value: 'dev' },
      { name: 'team', value: 'x' },
    ]);
    return { ctx, a, b };
  }

  it('lists built-in and custom attributes of every instance, with target type and ARN', async () => {
    const { ctx, a, b } = await twoInstances();
    const out = await ops.ListAttributes!(ctx, { cluster: 'prod', targetType: 'container-instance' });
    const got = out.attributes!;
    assert.ok(got.every((x) => x.targetType === 'container-instance'));
    assert.deepEqual(
      got
        .filter((x) => x.name === 'ecs.os-type')
        .map((x) => [x.targetId, x.value])
        .sort(),
      [
        [a.arn, 'linux'],
        [b.arn, 'linux'],
      ].sort(),
    );
    assert.ok(got.some((x) => x.name === 'team' && x.targetId === b.arn && x.value === 'x'));
    assert.equal(out.nextToken, undefined);
  });

  it('filters by name, and by name and value', async () => {
    const { ctx, a } = await twoInstances();
    const byName = await ops.ListAttributes!(ctx, {
      cluster: 'prod',
      targetType: 'container-instance',
      attributeName: 'stack',
    });
    assert.equal(byName.attributes!.length, 2);
    const byValue = await ops.ListAttributes!(ctx, {
      cluster: 'prod',
      targetType: 'container-instance',
      attributeName: 'stack',
      attributeValue: 'prod',
    });
    assert.deepEqual(byValue.attributes, [
      { name: 'stack', value: 'prod', targetType: 'container-instance', targetId: a.arn },
    ]);
  });

  it('leaves out deregistered instances', async () => {
    const { ctx, a } = await twoInstances();
    await containerInstanceOperations.DeregisterContainerInstance!(ctx, {
      cluster: 'prod',
      containerInstance: a.arn,
    });
    const out = await ops.ListAttributes!(ctx, {
      cluster: 'prod',
      targetType: 'container-instance',
      attributeName: 'stack',
    });
    assert.deepEqual(
      out.attributes!.map((x) => x.value),
      ['dev'],
    );
  });

  it('pages with maxResults and nextToken', async () => {
    const { ctx } = await twoInstances();
    const all = (await ops.ListAttributes!(ctx, { cluster: 'prod', targetType: 'container-instance' }))
      .attributes!;
    assert.ok(all.length >= 5);
    const seen: Attribute[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ops.ListAttributes!(ctx, {
        cluster: 'prod',
        targetType: 'container-instance',
        maxResults: 2,
        nextToken,
      });
      assert.ok(page.attributes!.length <= 2);
      seen.push(...page.attributes!);
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(seen, all);
  });

  it('validates targetType, attributeValue without a name, maxResults and the cluster', async () => {
    const { ctx } = await twoInstances();
    await assert.rejects(
      ops.ListAttributes!(ctx, { cluster: 'prod', targetType: undefined as unknown as 'container-instance' }),
      fails('InvalidParameterException', /targetType is required/),
    );
    await assert.rejects(
      ops.ListAttributes!(ctx, { cluster: 'prod', targetType: 'container-instance', attributeValue: 'prod' }),
      fails('InvalidParameterException', /attributeValue can only be used together with attributeName/),
    );
    await assert.rejects(
      ops.ListAttributes!(ctx, { cluster: 'prod', targetType: 'container-instance', maxResults: 101 }),
      fails('InvalidParameterException', /maxResults/),
    );
    await assert.rejects(
      ops.ListAttributes!(ctx, { cluster: 'nope', targetType: 'container-instance' }),
      fails('ClusterNotFoundException'),
    );
  });
});
