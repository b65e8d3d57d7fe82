import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CapacityProviderRecord } from '../records.js';
import {
  MAX_CLUSTER_CAPACITY_PROVIDERS,
  checkClusterCapacityProviders,
  checkStrategyAssociated,
  findProviderInUse,
  normalizeStrategy,
  type AssociationFacts,
} from './strategy.js';

const M = 'defaultCapacityProviderStrategy';

function provider(name: string, extra: Partial<CapacityProviderRecord> = {}): CapacityProviderRecord {
  return {
    name,
    capacityProviderArn: `arn:aws:ecs:us-east-1:123456789012:capacity-provider/${name}`,
    status: 'ACTIVE',
    type: 'EC2_AUTOSCALING',
    tags: [],
    ...extra,
  };
}

describe('normalizeStrategy', () => {
  it('fills weight and base with 0', () => {
    assert.deepEqual(
      normalizeStrategy(
        [{ capacityProvider: 'FARGATE' }, { capacityProvider: 'FARGATE_SPOT', weight: 3, base: 2 }],
        M,
      ),
      [
        { capacityProvider: 'FARGATE', weight: 0, base: 0 },
        { capacityProvider: 'FARGATE_SPOT', weight: 3, base: 2 },
      ],
    );
  });

  it('enforces weight 0–1000 and base 0–100000', () => {
    assert.throws(
      () => normalizeStrategy([{ capacityProvider: 'a', weight: 1001 }], M),
      /\[0\]\.weight must be between 0 and 1000/,
    );
    assert.throws(() => normalizeStrategy([{ capacityProvider: 'a', weight: -1 }], M), /weight/);
    assert.throws(
      () => normalizeStrategy([{ capacityProvider: 'a', base: 100001 }], M),
      /\[0\]\.base must be between 0 and 100000/,
    );
    normalizeStrategy([{ capacityProvider: 'a', weight: 1000, base: 100000 }], M);
  });

  it('allows a base on one provider only', () => {
    assert.throws(
      () =>
        normalizeStrategy(
          [
            { capacityProvider: 'a', base: 1 },
            { capacityProvider: 'b', base: 2 },
          ],
          M,
        ),
      { code: 'InvalidParameterException', message: /Only one capacity provider .* base defined.*a, b/ },
    );
    normalizeStrategy(
      [
        { capacityProvider: 'a', base: 1 },
        { capacityProvider: 'b', base: 0 },
      ],
      M,
    );
  });

  it('refuses duplicates, empty names and mixing Fargate with other providers', () => {
    assert.throws(
      () => normalizeStrategy([{ capacityProvider: 'a' }, { capacityProvider: 'a' }], M),
      /more than once/,
    );
    assert.throws(() => normalizeStrategy([{ capacityProvider: '' }], M), /capacityProvider/);
    assert.throws(
      () => normalizeStrategy([{ capacityProvider: 'FARGATE' }, { capacityProvider: 'asg' }], M),
      /mixes Fargate/,
    );
  });

  it('caps a strategy at 20 providers', () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ capacityProvider: `p${i}` }));
    assert.throws(() => normalizeStrategy(many, M), /at most 20/);
  });
});

describe('checkStrategyAssociated', () => {
  it('refuses a provider the cluster does not have', () => {
    const s = normalizeStrategy([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }], M);
    assert.throws(() => checkStrategyAssociated(s, ['FARGATE']), {
      code: 'InvalidParameterException',
      message: /not associated with the cluster \(FARGATE_SPOT\)/,
    });
    checkStrategyAssociated(s, ['FARGATE', 'FARGATE_SPOT']);
  });
});

describe('checkClusterCapacityProviders', () => {
  const facts = (
    providers: CapacityProviderRecord[],
    elsewhere: Record<string, string[]> = {},
  ): AssociationFacts => ({
    providers: new Map(providers.map((p) => [p.name, p])),
    associatedElsewhere: new Map(Object.entries(elsewhere)),
  });

  it('accepts Fargate providers and ACTIVE stored ones, normalising ARNs to names', () => {
    assert.deepEqual(
      checkClusterCapacityProviders(
        ['FARGATE', 'arn:aws:ecs:us-east-1:123456789012:capacity-provider/asg1'],
        'c1',
        facts([provider('asg1')]),
        'capacityProviders',
      ),
      ['FARGATE', 'asg1'],
    );
  });

  it('refuses unknown and INACTIVE providers', () => {
    assert.throws(
      () => checkClusterCapacityProviders(['nope'], 'c1', facts([]), 'capacityProviders'),
      /nope does not exist/,
    );
    assert.throws(
      () =>
        checkClusterCapacityProviders(
          ['gone'],
          'c1',
          facts([provider('gone', { status: 'INACTIVE' })]),
          'capacityProviders',
        ),
      /not ACTIVE/,
    );
  });

  it('refuses an ASG provider another live cluster has', () => {
    assert.throws(
      () =>
        checkClusterCapacityProviders(
          ['asg1'],
          'c1',
          facts([provider('asg1')], { asg1: ['c2'] }),
          'capacityProviders',
        ),
      /already associated with cluster c2/,
    );
  });

  it('lets Fargate providers serve any number of clusters', () => {
    checkClusterCapacityProviders(
      ['FARGATE'],
      'c1',
      facts([], { FARGATE: ['c2', 'c3'] }),
      'capacityProviders',
    );
  });

  it('keeps a Managed Instances provider in its own cluster', () => {
    const mi = provider('mi', { cluster: 'c2', type: 'MANAGED_INSTANCES' });
    assert.throws(
      () => checkClusterCapacityProviders(['mi'], 'c1', facts([mi]), 'capacityProviders'),
      /belongs to cluster c2/,
    );
    checkClusterCapacityProviders(['mi'], 'c2', facts([mi]), 'capacityProviders');
  });

  it('refuses duplicates and more than 20 providers', () => {
    assert.throws(
      () => checkClusterCapacityProviders(['FARGATE', 'FARGATE'], 'c1', facts([]), 'capacityProviders'),
      /more than once/,
    );
    const many = Array.from({ length: MAX_CLUSTER_CAPACITY_PROVIDERS + 1 }, (_, i) => `p${i}`);
    assert.throws(
      () => checkClusterCapacityProviders(many, 'c1', facts([]), 'capacityProviders'),
      /at most 20/,
    );
  });
});

describe('findProviderInUse', () => {
  it('finds a provider in a live service strategy', () => {
    const services = [{ status: 'ACTIVE', capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }] }];
    assert.equal(findProviderInUse(['FARGATE', 'FARGATE_SPOT'], services, []), 'FARGATE_SPOT');
    assert.equal(
      findProviderInUse(['FARGATE_SPOT'], [{ ...services[0]!, status: 'DRAINING' }], []),
      'FARGATE_SPOT',
    );
  });

  it('ignores INACTIVE services and stopped tasks', () => {
    const services = [
      { status: 'INACTIVE', capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }] },
    ];
    const tasks = [{ lastStatus: 'STOPPED', capacityProviderName: 'FARGATE_SPOT' }];
    assert.equal(findProviderInUse(['FARGATE_SPOT'], services, tasks), undefined);
  });

  it('finds a provider an unfinished task runs on', () => {
    assert.equal(
      findProviderInUse(['asg'], [], [{ lastStatus: 'PENDING', capacityProviderName: 'asg' }]),
      'asg',
    );
  });
});
