import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isEcsError, type WireErrorCode } from '../../domain/errors.js';
import type { TaskDefinitionFamilyRecord } from '../../domain/records.js';
import type { ContainerDefinition, EcsOperationName, EcsOperations } from '../../generated/ecs/types.js';
import { keys } from '../../store/keys.js';
import type { RequestContext } from '../context.js';
import { findTaskDefinition, taskDefinitionOperations as ops } from './task-definitions.js';
import { testContext } from './test-context.js';

function call<K extends EcsOperationName>(
  name: K,
  ctx: RequestContext,
  input: EcsOperations[K]['input'],
): Promise<EcsOperations[K]['output']> {
  const handler = ops[name];
  assert.ok(handler, `no handler for ${name}`);
  return handler(ctx, input);
}

async function rejectsWith(p: Promise<unknown>, code: WireErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isEcsError(e), `expected an EcsError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

const app: ContainerDefinition = { name: 'app', image: 'busybox', memory: 64 };
const ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition';

async function register(
  ctx: RequestContext,
  family: string,
  extra: Partial<EcsOperations['RegisterTaskDefinition']['input']> = {},
) {
  const r = await call('RegisterTaskDefinition', ctx, { family, containerDefinitions: [app], ...extra });
  return r.taskDefinition!;
}

const revisionsOf = (arns: string[] | undefined) => (arns ?? []).map((a) => a.slice(ARN.length + 1));

describe('RegisterTaskDefinition', () => {
  it('numbers revisions from 1 and stamps ARN, status, registeredAt and registeredBy', async () => {
    const ctx = testContext();
    ctx.clock.set(Date.UTC(2026, 1, 3, 4, 5, 6, 789));
    const first = await register(ctx, 'web');
    ctx.clock.advance(1000);
    const second = await register(ctx, 'web');
    assert.equal(first.revision, 1);
    assert.equal(second.revision, 2);
    assert.equal(first.taskDefinitionArn, `${ARN}/web:1`);
    assert.equal(first.status, 'ACTIVE');
    assert.equal(first.registeredAt, Date.UTC(2026, 1, 3, 4, 5, 6, 789) / 1000);
    assert.equal(second.registeredAt, Date.UTC(2026, 1, 3, 4, 5, 7, 789) / 1000);
    assert.equal(first.registeredBy, 'arn:aws:iam::123456789012:root');
    assert.ok(!('tags' in first));
    const counter = await ctx.store.get<TaskDefinitionFamilyRecord>(keys.taskDefinitionFamily(ctx, 'web'));
    assert.deepEqual(counter?.value, { family: 'web', lastRevision: 2 });
  });

  it('answers tags beside the definition only when the request had them', async () => {
    const ctx = testContext();
    const withTags = await call('RegisterTaskDefinition', ctx, {
      family: 'f',
      containerDefinitions: [app],
      tags: [{ key: 'k', value: 'v' }],
    });
    assert.deepEqual(withTags.tags, [{ key: 'k', value: 'v' }]);
    assert.ok(!('tags' in withTags.taskDefinition!));
    const without = await call('RegisterTaskDefinition', ctx, { family: 'f', containerDefinitions: [app] });
    assert.ok(!('tags' in without));
  });

  it('counts families separately', async () => {
    const ctx = testContext();
    await register(ctx, 'a');
    await register(ctx, 'a');
    assert.equal((await register(ctx, 'b')).revision, 1);
    assert.equal((await register(ctx, 'a')).revision, 3);
  });

  it('gives 20 concurrent registrations of one family 20 distinct revisions', async () => {
    const ctx = testContext();
    const results = await Promise.all(Array.from({ length: 20 }, () => register(ctx, 'burst')));
    const revisions = results.map((r) => r.revision!).sort((a, b) => a - b);
    assert.deepEqual(
      revisions,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const stored = await ctx.store.list(keys.taskDefinitionsOfFamily(ctx, 'burst'));
    assert.equal(stored.length, 20);
    const counter = await ctx.store.get<TaskDefinitionFamilyRecord>(keys.taskDefinitionFamily(ctx, 'burst'));
    assert.equal(counter?.value.lastRevision, 20);
  });

  it('rejects an invalid definition without using up a revision', async () => {
    const ctx = testContext();
    await rejectsWith(
      call('RegisterTaskDefinition', ctx, {
        family: 'web',
        containerDefinitions: [{ name: 'app', image: 'busybox' }],
      }),
      'ClientException',
      /Invalid setting for container 'app'\. At least one of 'memory' or 'memoryReservation' must be specified\./,
    );
    assert.equal(await ctx.store.get(keys.taskDefinitionFamily(ctx, 'web')), undefined);
    assert.equal((await register(ctx, 'web')).revision, 1);
  });

  it('stores the normalised definition', async () => {
    const ctx = testContext();
    const td = await register(ctx, 'fg', {
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '0.5 vCPU',
      memory: '1 GB',
      containerDefinitions: [{ name: 'web', image: 'nginx', portMappings: [{ containerPort: 80 }] }],
    });
    assert.equal(td.cpu, '512');
    assert.equal(td.memory, '1024');
    assert.deepEqual(td.compatibilities, ['EC2', 'FARGATE']);
    assert.deepEqual(td.containerDefinitions![0]!.portMappings, [
      { containerPort: 80, hostPort: 80, protocol: 'tcp' },
    ]);
    const stored = await findTaskDefinition(ctx, 'fg:1');
    assert.equal(stored?.value.cpu, '512');
  });
});

describe('DescribeTaskDefinition', () => {
  it('finds a revision by family:revision and by ARN', async () => {
    const ctx = testContext();
    await register(ctx, 'web');
    await register(ctx, 'web');
    assert.equal(
      (await call('DescribeTaskDefinition', ctx, { taskDefinition: 'web:1' })).taskDefinition!.revision,
      1,
    );
    assert.equal(
      (await call('DescribeTaskDefinition', ctx, { taskDefinition: `${ARN}/web:2` })).taskDefinition!
        .revision,
      2,
    );
  });

  it('resolves a bare family or family ARN to the latest ACTIVE revision', async () => {
    const ctx = testContext();
    for (let i = 0; i < 3; i++) await register(ctx, 'web');
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'web:3' });
    assert.equal(
      (await call('DescribeTaskDefinition', ctx, { taskDefinition: 'web' })).taskDefinition!.revision,
      2,
    );
    assert.equal(
      (await call('DescribeTaskDefinition', ctx, { taskDefinition: `${ARN}/web` })).taskDefinition!.revision,
      2,
    );
  });

  it('still describes INACTIVE and DELETE_IN_PROGRESS revisions named explicitly', async () => {
    const ctx = testContext();
    await register(ctx, 'old');
    await register(ctx, 'old');
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'old:1' });
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'old:2' });
    await call('DeleteTaskDefinitions', ctx, { taskDefinitions: ['old:2'] });
    assert.equal(
      (await call('DescribeTaskDefinition', ctx, { taskDefinition: 'old:1' })).taskDefinition!.status,
      'INACTIVE',
    );
    assert.equal(
      (await call('DescribeTaskDefinition', ctx, { taskDefinition: 'old:2' })).taskDefinition!.status,
      'DELETE_IN_PROGRESS',
    );
    await rejectsWith(
      call('DescribeTaskDefinition', ctx, { taskDefinition: 'old' }),
      'ClientException',
      /^Unable to describe task definition\.$/,
    );
  });

  it('answers ClientException for unknown families, revisions and foreign ARNs', async () => {
    const ctx = testContext();
    await register(ctx, 'web');
    for (const ref of [
      'nope',
      'web:2',
      'web:x',
      'a/b:1',
      'arn:aws:ecs:us-east-1:999999999999:task-definition/web:1',
      'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:1',
      'arn:aws:ecs:us-east-1:123456789012:cluster/web',
    ]) {
      await rejectsWith(
        call('DescribeTaskDefinition', ctx, { taskDefinition: ref }),
        'ClientException',
        /^Unable to describe task definition\.$/,
      );
    }
  });

  it('includes tags only when asked', async () => {
    const ctx = testContext();
    await register(ctx, 'web', { tags: [{ key: 'team', value: 'blue' }] });
    await register(ctx, 'web');
    const tagged = await call('DescribeTaskDefinition', ctx, { taskDefinition: 'web:1', include: ['TAGS'] });
    assert.deepEqual(tagged.tags, [{ key: 'team', value: 'blue' }]);
    assert.ok(!('tags' in tagged.taskDefinition!));
    const untaggedRevision = await call('DescribeTaskDefinition', ctx, {
      taskDefinition: 'web:2',
      include: ['TAGS'],
    });
    assert.deepEqual(untaggedRevision.tags, []);
    const plain = await call('DescribeTaskDefinition', ctx, { taskDefinition: 'web:1' });
    assert.ok(!('tags' in plain));
  });
});

describe('DeregisterTaskDefinition', () => {
  it('turns ACTIVE into INACTIVE with deregisteredAt, and is idempotent', async () => {
    const ctx = testContext();
    await register(ctx, 'web');
    ctx.clock.set(Date.UTC(2026, 5, 1));
    const first = await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'web:1' });
    assert.equal(first.taskDefinition!.status, 'INACTIVE');
    assert.equal(first.taskDefinition!.deregisteredAt, Date.UTC(2026, 5, 1) / 1000);
    ctx.clock.advance(60_000);
    const again = await call('DeregisterTaskDefinition', ctx, { taskDefinition: `${ARN}/web:1` });
    assert.equal(again.taskDefinition!.status, 'INACTIVE');
    assert.equal(again.taskDefinition!.deregisteredAt, Date.UTC(2026, 5, 1) / 1000);
    assert.equal((await findTaskDefinition(ctx, 'web:1'))?.value.status, 'INACTIVE');
  });

  it('requires a revision', async () => {
    const ctx = testContext();
    await register(ctx, 'web');
    await rejectsWith(
      call('DeregisterTaskDefinition', ctx, { taskDefinition: 'web' }),
      'ClientException',
      /'web' must name a revision/,
    );
    assert.equal((await findTaskDefinition(ctx, 'web:1'))?.value.status, 'ACTIVE');
  });

  it('rejects unknown definitions', async () => {
    const ctx = testContext();
    await rejectsWith(
      call('DeregisterTaskDefinition', ctx, { taskDefinition: 'ghost:1' }),
      'ClientException',
      /Unable to deregister task definition/,
    );
    await rejectsWith(
      call('DeregisterTaskDefinition', ctx, { taskDefinition: 'bad name:1' }),
      'ClientException',
      /Unable to deregister/,
    );
  });

  it('rejects a revision being deleted', async () => {
    const ctx = testContext();
    await register(ctx, 'web');
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'web:1' });
    await call('DeleteTaskDefinitions', ctx, { taskDefinitions: ['web:1'] });
    await rejectsWith(
      call('DeregisterTaskDefinition', ctx, { taskDefinition: 'web:1' }),
      'ClientException',
      /being deleted/,
    );
  });
});

describe('DeleteTaskDefinitions', () => {
  it('deletes INACTIVE revisions and reports the rest as failures, in order', async () => {
    const ctx = testContext();
    await register(ctx, 'web');
    await register(ctx, 'web');
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'web:1' });
    ctx.clock.set(Date.UTC(2026, 6, 1));
    const r = await call('DeleteTaskDefinitions', ctx, {
      taskDefinitions: ['web:1', 'web:2', 'web:9', 'web', 'nope:1'],
    });
    assert.equal(r.taskDefinitions!.length, 1);
    assert.equal(r.taskDefinitions![0]!.taskDefinitionArn, `${ARN}/web:1`);
    assert.equal(r.taskDefinitions![0]!.status, 'DELETE_IN_PROGRESS');
    assert.equal(r.taskDefinitions![0]!.deleteRequestedAt, Date.UTC(2026, 6, 1) / 1000);
    assert.deepEqual(r.failures, [
      {
        arn: 'web:2',
        reason:
          'The specified task definition is still in ACTIVE status. Please deregister the target and try again.',
      },
      {
        arn: 'web:9',
        reason:
          'The specified task definition does not exist. Specify a valid account, family, revision and try again.',
      },
      {
        arn: 'web',
        reason:
          'The specified task definition identifier is invalid. Specify a valid name or ARN and try again.',
      },
      {
        arn: 'nope:1',
        reason:
          'The specified task definition does not exist. Specify a valid account, family, revision and try again.',
      },
    ]);
    assert.equal((await findTaskDefinition(ctx, 'web:2'))?.value.status, 'ACTIVE');
  });

  it('treats an ARN of another account as not existing', async () => {
    const ctx = testContext();
    const foreign = 'arn:aws:ecs:us-east-1:999999999999:task-definition/web:1';
    const r = await call('DeleteTaskDefinitions', ctx, { taskDefinitions: [foreign] });
    assert.deepEqual(r.failures, [
      {
        arn: foreign,
        reason:
          'The specified task definition does not exist. Specify a valid account, family, revision and try again.',
      },
    ]);
  });

  it('answers a revision already being deleted again, unchanged', async () => {
    const ctx = testContext();
    await register(ctx, 'web');
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'web:1' });
    const first = await call('DeleteTaskDefinitions', ctx, { taskDefinitions: [`${ARN}/web:1`] });
    ctx.clock.advance(5000);
    const again = await call('DeleteTaskDefinitions', ctx, { taskDefinitions: ['web:1'] });
    assert.deepEqual(again.taskDefinitions, first.taskDefinitions);
    assert.deepEqual(again.failures, []);
  });

  it('accepts 1 to 10 references', async () => {
    const ctx = testContext();
    await rejectsWith(
      call('DeleteTaskDefinitions', ctx, { taskDefinitions: [] }),
      'InvalidParameterException',
      /between 1 and 10.*got 0/,
    );
    await rejectsWith(
      call('DeleteTaskDefinitions', ctx, {
        taskDefinitions: Array.from({ length: 11 }, (_, i) => `f:${i + 1}`),
      }),
      'InvalidParameterException',
      /between 1 and 10.*got 11/,
    );
    const ten = await call('DeleteTaskDefinitions', ctx, {
      taskDefinitions: Array.from({ length: 10 }, (_, i) => `f:${i + 1}`),
    });
    assert.equal(ten.failures!.length, 10);
  });

  it('never reuses a deleted revision number', async () => {
    const ctx = testContext();
    await register(ctx, 'web');
    await register(ctx, 'web');
    for (const rev of [1, 2]) await call('DeregisterTaskDefinition', ctx, { taskDefinition: `web:${rev}` });
    await call('DeleteTaskDefinitions', ctx, { taskDefinitions: ['web:1', 'web:2'] });
    // Even with the revision records gone for good, the family counter remembers.
    for (const rev of [1, 2])
      await ctx.store.txn([], [{ kind: 'delete', key: keys.taskDefinition(ctx, 'web', rev) }]);
    assert.equal((await register(ctx, 'web')).revision, 3);
  });
});

describe('ListTaskDefinitions', () => {
  async function fixture() {
    const ctx = testContext();
    for (const f of ['web', 'web-x', 'api', 'web']) await register(ctx, f);
    await register(ctx, 'web'); // web:3
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'web:2' });
    return ctx;
  }

  it('lists ACTIVE revisions by family name then revision by default', async () => {
    const ctx = await fixture();
    const r = await call('ListTaskDefinitions', ctx, {});
    assert.deepEqual(revisionsOf(r.taskDefinitionArns), ['api:1', 'web:1', 'web:3', 'web-x:1']);
    assert.equal(r.nextToken, undefined);
  });

  it('sorts DESC in reverse', async () => {
    const ctx = await fixture();
    const r = await call('ListTaskDefinitions', ctx, { sort: 'DESC' });
    assert.deepEqual(revisionsOf(r.taskDefinitionArns), ['web-x:1', 'web:3', 'web:1', 'api:1']);
  });

  it('filters by status', async () => {
    const ctx = await fixture();
    assert.deepEqual(
      revisionsOf((await call('ListTaskDefinitions', ctx, { status: 'INACTIVE' })).taskDefinitionArns),
      ['web:2'],
    );
    await call('DeleteTaskDefinitions', ctx, { taskDefinitions: ['web:2'] });
    assert.deepEqual(
      revisionsOf((await call('ListTaskDefinitions', ctx, { status: 'INACTIVE' })).taskDefinitionArns),
      [],
    );
    assert.deepEqual(
      revisionsOf(
        (await call('ListTaskDefinitions', ctx, { status: 'DELETE_IN_PROGRESS' })).taskDefinitionArns,
      ),
      ['web:2'],
    );
  });

  it('treats familyPrefix as the full family name, as ECS does', async () => {
    const ctx = await fixture();
    assert.deepEqual(
      revisionsOf((await call('ListTaskDefinitions', ctx, { familyPrefix: 'web' })).taskDefinitionArns),
      ['web:1', 'web:3'],
    );
    assert.deepEqual(
      revisionsOf((await call('ListTaskDefinitions', ctx, { familyPrefix: 'we' })).taskDefinitionArns),
      [],
    );
    assert.deepEqual(
      revisionsOf((await call('ListTaskDefinitions', ctx, { familyPrefix: 'web/' })).taskDefinitionArns),
      [],
    );
  });

  it('pages with nextToken in both directions', async () => {
    const ctx = testContext();
    for (let i = 0; i < 5; i++) await register(ctx, 'p');
    for (const [sort, expected] of [
      ['ASC', ['p:1', 'p:2', 'p:3', 'p:4', 'p:5']],
      ['DESC', ['p:5', 'p:4', 'p:3', 'p:2', 'p:1']],
    ] as const) {
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const r = await call('ListTaskDefinitions', ctx, { sort, maxResults: 2, nextToken });
        seen.push(...revisionsOf(r.taskDefinitionArns));
        nextToken = r.nextToken;
        pages++;
      } while (nextToken);
      assert.deepEqual(seen, expected);
      assert.equal(pages, 3);
    }
  });

  it('keeps paging correctly when the last listed revision changes status', async () => {
    const ctx = testContext();
    for (let i = 0; i < 4; i++) await register(ctx, 'p');
    const first = await call('ListTaskDefinitions', ctx, { maxResults: 2 });
    assert.deepEqual(revisionsOf(first.taskDefinitionArns), ['p:1', 'p:2']);
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'p:2' });
    const second = await call('ListTaskDefinitions', ctx, { maxResults: 2, nextToken: first.nextToken });
    assert.deepEqual(revisionsOf(second.taskDefinitionArns), ['p:3', 'p:4']);
    assert.equal(second.nextToken, undefined);
  });

  it('rejects maxResults outside 1-100 and tokens it did not issue', async () => {
    const ctx = testContext();
    await rejectsWith(
      call('ListTaskDefinitions', ctx, { maxResults: 0 }),
      'InvalidParameterException',
      /maxResults/,
    );
    await rejectsWith(
      call('ListTaskDefinitions', ctx, { maxResults: 101 }),
      'InvalidParameterException',
      /maxResults/,
    );
    await rejectsWith(
      call('ListTaskDefinitions', ctx, { nextToken: 'garbage' }),
      'InvalidParameterException',
      /nextToken/,
    );
  });
});

describe('ListTaskDefinitionFamilies', () => {
  async function fixture() {
    const ctx = testContext();
    for (const f of ['web', 'worker', 'api', 'gone']) await register(ctx, f);
    await register(ctx, 'web');
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'web:1' }); // web still has web:2
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'worker:1' }); // worker now INACTIVE
    await call('DeregisterTaskDefinition', ctx, { taskDefinition: 'gone:1' });
    await call('DeleteTaskDefinitions', ctx, { taskDefinitions: ['gone:1'] }); // DELETE_IN_PROGRESS still lists
    return ctx;
  }

  it('lists ACTIVE and INACTIVE families by default, alphabetically', async () => {
    const ctx = await fixture();
    assert.deepEqual((await call('ListTaskDefinitionFamilies', ctx, {})).families, [
      'api',
      'gone',
      'web',
      'worker',
    ]);
    assert.deepEqual((await call('ListTaskDefinitionFamilies', ctx, { status: 'ALL' })).families, [
      'api',
      'gone',
      'web',
      'worker',
    ]);
  });

  it('filters ACTIVE (any ACTIVE revision) and INACTIVE (revisions, none ACTIVE)', async () => {
    const ctx = await fixture();
    assert.deepEqual((await call('ListTaskDefinitionFamilies', ctx, { status: 'ACTIVE' })).families, [
      'api',
      'web',
    ]);
    assert.deepEqual((await call('ListTaskDefinitionFamilies', ctx, { status: 'INACTIVE' })).families, [
      'gone',
      'worker',
    ]);
  });

  it('drops a family whose revisions are all gone', async () => {
    const ctx = await fixture();
    await ctx.store.txn([], [{ kind: 'delete', key: keys.taskDefinition(ctx, 'gone', 1) }]);
    assert.deepEqual((await call('ListTaskDefinitionFamilies', ctx, {})).families, ['api', 'web', 'worker']);
  });

  it('filters by a real prefix', async () => {
    const ctx = await fixture();
    assert.deepEqual((await call('ListTaskDefinitionFamilies', ctx, { familyPrefix: 'w' })).families, [
      'web',
      'worker',
    ]);
    assert.deepEqual((await call('ListTaskDefinitionFamilies', ctx, { familyPrefix: 'wor' })).families, [
      'worker',
    ]);
    assert.deepEqual((await call('ListTaskDefinitionFamilies', ctx, { familyPrefix: 'x' })).families, []);
    assert.deepEqual((await call('ListTaskDefinitionFamilies', ctx, { familyPrefix: 'w*' })).families, []);
  });

  it('pages with nextToken', async () => {
    const ctx = await fixture();
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const r = await call('ListTaskDefinitionFamilies', ctx, { maxResults: 3, nextToken });
      seen.push(...r.families!);
      nextToken = r.nextToken;
    } while (nextToken);
    assert.deepEqual(seen, ['api', 'gone', 'web', 'worker']);
    const one = await call('ListTaskDefinitionFamilies', ctx, { maxResults: 4 });
    assert.equal(one.nextToken, undefined);
  });
});

describe('findTaskDefinition', () => {
  it('resolves every reference form other operations accept', async () => {
    const ctx = testContext();
    await register(ctx, 'web');
    await register(ctx, 'web');
    assert.equal((await findTaskDefinition(ctx, 'web'))?.value.revision, 2);
    assert.equal((await findTaskDefinition(ctx, 'web:1'))?.value.revision, 1);
    assert.equal((await findTaskDefinition(ctx, `${ARN}/web:1`))?.value.revision, 1);
    assert.equal(await findTaskDefinition(ctx, 'other'), undefined);
  });
});
