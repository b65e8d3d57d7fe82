import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterField } from '../../generated/ecs/types.js';
import {
  clusterView,
  mergeClusterSettings,
  newClusterRecord,
  validateClusterConfiguration,
  validateClusterName,
  validateClusterSettings,
  validateServiceConnectNamespace,
} from './cluster.js';

const scope = { account: '123456789012', region: 'eu-west-1' };
const counts = {
  registeredContainerInstancesCount: 2,
  runningTasksCount: 3,
  pendingTasksCount: 1,
  activeServicesCount: 4,
};

describe('validateClusterName', () => {
  it('accepts 1–255 of letters, digits, _ and -', () => {
    validateClusterName('default');
    validateClusterName('My_cluster-2');
    validateClusterName('c'.repeat(255));
  });

  it('refuses anything else with InvalidParameterException', () => {
    for (const bad of ['', 'c'.repeat(256), 'with space', 'dots.here', 'slash/no', 'ünï']) {
      assert.throws(
        () => validateClusterName(bad),
        { code: 'InvalidParameterException', message: /cluster name/ },
        bad,
      );
    }
  });
});

describe('cluster settings', () => {
  it('accepts containerInsights enabled, disabled and enhanced', () => {
    for (const value of ['enabled', 'disabled', 'enhanced']) {
      assert.deepEqual(validateClusterSettings([{ name: 'containerInsights', value }]), [
        { name: 'containerInsights', value },
      ]);
    }
  });

  it('refuses other values and names, naming the member', () => {
    assert.throws(
      () => validateClusterSettings([{ name: 'containerInsights', value: 'on' }]),
      /settings\[0\]\.value 'on'/,
    );
    assert.throws(
      () => validateClusterSettings([{ name: 'other' as 'containerInsights', value: 'enabled' }]),
      /settings\[0\]\.name must be containerInsights/,
    );
    assert.throws(
      () =>
        validateClusterSettings([
          { name: 'containerInsights', value: 'enabled' },
          { name: 'containerInsights', value: 'disabled' },
        ]),
      /more than once/,
    );
  });

  it('merges by name', () => {
    assert.deepEqual(
      mergeClusterSettings(
        [{ name: 'containerInsights', value: 'disabled' }],
        [{ name: 'containerInsights', value: 'enhanced' }],
      ),
      [{ name: 'containerInsights', value: 'enhanced' }],
    );
    assert.deepEqual(mergeClusterSettings([], [{ name: 'containerInsights', value: 'enabled' }]), [
      { name: 'containerInsights', value: 'enabled' },
    ]);
  });
});

describe('validateClusterConfiguration', () => {
  it('needs a logConfiguration with logging OVERRIDE and refuses one otherwise', () => {
    assert.throws(
      () => validateClusterConfiguration({ executeCommandConfiguration: { logging: 'OVERRIDE' } }),
      /logConfiguration is required when logging is OVERRIDE/,
    );
    assert.throws(
      () =>
        validateClusterConfiguration({
          executeCommandConfiguration: {
            logging: 'DEFAULT',
            logConfiguration: { cloudWatchLogGroupName: 'g' },
          },
        }),
      /only be given when logging is OVERRIDE \(logging is DEFAULT\)/,
    );
    const ok = {
      executeCommandConfiguration: { logging: 'OVERRIDE' as const, logConfiguration: { s3BucketName: 'b' } },
    };
    assert.deepEqual(validateClusterConfiguration(ok), ok);
  });
});

describe('validateServiceConnectNamespace', () => {
  it('accepts names and ARNs, refuses forbidden characters and long names', () => {
    validateServiceConnectNamespace('internal.local');
    validateServiceConnectNamespace('arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-abc');
    assert.throws(() => validateServiceConnectNamespace('a/b'), /can't contain/);
    assert.throws(() => validateServiceConnectNamespace('x'.repeat(1025)), /1024/);
  });
});

describe('newClusterRecord and clusterView', () => {
  const record = newClusterRecord(scope, {
    name: 'web',
    settings: [{ name: 'containerInsights', value: 'enabled' }],
    configuration: { executeCommandConfiguration: { logging: 'DEFAULT' } },
    capacityProviders: ['FARGATE'],
    defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
    serviceConnectDefaults: { namespace: 'ns' },
    tags: [{ key: 'team', value: 'a' }],
  });

  it('builds an ACTIVE record with the ARN and no counts', () => {
    assert.equal(record.clusterArn, 'arn:aws:ecs:eu-west-1:123456789012:cluster/web');
    assert.equal(record.status, 'ACTIVE');
    assert.equal(record.attachmentsStatus, 'UPDATE_COMPLETE');
    assert.equal('runningTasksCount' in record, false);
  });

  it('leaves settings, tags, configuration and attachments out unless included', () => {
    const view = clusterView(record, counts, { include: new Set() });
    assert.deepEqual(view, {
      clusterArn: record.clusterArn,
      clusterName: 'web',
      status: 'ACTIVE',
      ...counts,
      capacityProviders: ['FARGATE'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
      attachmentsStatus: 'UPDATE_COMPLETE',
      serviceConnectDefaults: { namespace: 'ns' },
    });
  });

  it('adds each included member', () => {
    const all = new Set<ClusterField>(['SETTINGS', 'TAGS', 'CONFIGURATIONS', 'ATTACHMENTS']);
    const view = clusterView(record, counts, { include: all, statistics: [{ name: 'x', value: '1' }] });
    assert.deepEqual(view.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    assert.deepEqual(view.tags, [{ key: 'team', value: 'a' }]);
    assert.deepEqual(view.configuration, { executeCommandConfiguration: { logging: 'DEFAULT' } });
    assert.deepEqual(view.attachments, []);
    assert.deepEqual(view.statistics, [{ name: 'x', value: '1' }]);
  });
});
