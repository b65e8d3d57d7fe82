import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MANAGED_SCALING_DEFAULTS,
  capacityProviderNameFromRef,
  capacityProviderType,
  capacityProviderView,
  fargateProvider,
  isFargateProvider,
  mergeAutoScalingGroupProvider,
  mergeManagedInstancesProvider,
  normalizeAutoScalingGroupProvider,
  normalizeManagedInstancesProvider,
  validateCapacityProviderName,
} from './capacity-provider.js';

const scope = { account: '123456789012', region: 'us-east-1' };
const ASG = 'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/asg-1';

describe('validateCapacityProviderName', () => {
  it('accepts letters, digits, _ and - up to 255', () => {
    validateCapacityProviderName('my_provider-1');
    validateCapacityProviderName('p'.repeat(255));
  });

  it('refuses other characters, the empty name and names over 255', () => {
    for (const bad of ['', 'has space', 'dot.name', 'p'.repeat(256)]) {
      assert.throws(() => validateCapacityProviderName(bad), { code: 'InvalidParameterException' }, bad);
    }
  });

  it('refuses the reserved prefixes aws, ecs and fargate in any case', () => {
    for (const bad of ['aws-x', 'ECSprovider', 'Fargate_custom', 'FARGATE', 'FARGATE_SPOT']) {
      assert.throws(
        () => validateCapacityProviderName(bad),
        { code: 'ClientException', message: /prefixed/ },
        bad,
      );
    }
    validateCapacityProviderName('my-aws-provider');
  });
});

describe('Fargate providers', () => {
  it('are synthesized ACTIVE with their ARN and type and no tags', () => {
    assert.deepEqual(fargateProvider(scope, 'FARGATE_SPOT'), {
      capacityProviderArn: 'arn:aws:ecs:us-east-1:123456789012:capacity-provider/FARGATE_SPOT',
      name: 'FARGATE_SPOT',
      status: 'ACTIVE',
      type: 'FARGATE_SPOT',
      tags: [],
    });
    assert.equal(isFargateProvider('FARGATE'), true);
    assert.equal(isFargateProvider('fargate'), false);
  });

  it('have their own type; stored providers say theirs, ASG when unsaid', () => {
    assert.equal(capacityProviderType('FARGATE'), 'FARGATE');
    assert.equal(capacityProviderType('mi', { type: 'MANAGED_INSTANCES' }), 'MANAGED_INSTANCES');
    assert.equal(capacityProviderType('old', {}), 'EC2_AUTOSCALING');
  });
});

describe('capacityProviderNameFromRef', () => {
  it('takes names and capacity provider ARNs, not other ARNs', () => {
    assert.equal(capacityProviderNameFromRef('cp1'), 'cp1');
    assert.equal(
      capacityProviderNameFromRef('arn:aws:ecs:us-east-1:123456789012:capacity-provider/cp1'),
      'cp1',
    );
    assert.equal(capacityProviderNameFromRef('arn:aws:ecs:us-east-1:123456789012:cluster/cp1'), undefined);
  });
});

describe('normalizeAutoScalingGroupProvider', () => {
  it('fills in ECS defaults', () => {
    assert.deepEqual(normalizeAutoScalingGroupProvider({ autoScalingGroupArn: ASG }), {
      autoScalingGroupArn: ASG,
      managedScaling: { ...MANAGED_SCALING_DEFAULTS },
      managedTerminationProtection: 'DISABLED',
      managedDraining: 'ENABLED',
    });
    assert.deepEqual(MANAGED_SCALING_DEFAULTS, {
      status: 'DISABLED',
      targetCapacity: 100,
      minimumScalingStepSize: 1,
      maximumScalingStepSize: 10000,
      instanceWarmupPeriod: 300,
    });
  });

  it('keeps what is given', () => {
    const p = normalizeAutoScalingGroupProvider({
      autoScalingGroupArn: ASG,
      managedScaling: { status: 'ENABLED', targetCapacity: 80 },
      managedTerminationProtection: 'ENABLED',
      managedDraining: 'DISABLED',
    });
    assert.equal(p.managedScaling.targetCapacity, 80);
    assert.equal(p.managedScaling.maximumScalingStepSize, 10000);
    assert.equal(p.managedTerminationProtection, 'ENABLED');
    assert.equal(p.managedDraining, 'DISABLED');
  });

  it('refuses an empty group, out-of-range scaling and min step above max step', () => {
    assert.throws(
      () => normalizeAutoScalingGroupProvider({ autoScalingGroupArn: ' ' }),
      /autoScalingGroupArn/,
    );
    assert.throws(
      () =>
        normalizeAutoScalingGroupProvider({
          autoScalingGroupArn: ASG,
          managedScaling: { targetCapacity: 0 },
        }),
      /targetCapacity must be greater than 0/,
    );
    assert.throws(
      () =>
        normalizeAutoScalingGroupProvider({
          autoScalingGroupArn: ASG,
          managedScaling: { minimumScalingStepSize: 5, maximumScalingStepSize: 2 },
        }),
      /minimumScalingStepSize \(5\) must not be greater than maximumScalingStepSize \(2\)/,
    );
    assert.throws(
      () =>
        normalizeAutoScalingGroupProvider({
          autoScalingGroupArn: ASG,
          managedScaling: { instanceWarmupPeriod: 10001 },
        }),
      /instanceWarmupPeriod/,
    );
  });

  it('refuses managed termination protection without managed scaling', () => {
    assert.throws(
      () =>
        normalizeAutoScalingGroupProvider({
          autoScalingGroupArn: ASG,
          managedTerminationProtection: 'ENABLED',
        }),
      { code: 'ClientException', message: /managedScaling.status ENABLED/ },
    );
  });
});

describe('mergeAutoScalingGroupProvider', () => {
  const current = normalizeAutoScalingGroupProvider({
    autoScalingGroupArn: ASG,
    managedScaling: { status: 'ENABLED', targetCapacity: 90, instanceWarmupPeriod: 60 },
  });

  it('replaces given members and keeps the rest, the group included', () => {
    const merged = mergeAutoScalingGroupProvider(current, {
      managedScaling: { targetCapacity: 70 },
      managedDraining: 'DISABLED',
    });
    assert.equal(merged.autoScalingGroupArn, ASG);
    assert.deepEqual(merged.managedScaling, {
      status: 'ENABLED',
      targetCapacity: 70,
      minimumScalingStepSize: 1,
      maximumScalingStepSize: 10000,
      instanceWarmupPeriod: 60,
    });
    assert.equal(merged.managedDraining, 'DISABLED');
    assert.equal(merged.managedTerminationProtection, 'DISABLED');
  });

  it('checks the merged result', () => {
    assert.throws(
      () =>
        mergeAutoScalingGroupProvider(current, {
          managedScaling: { status: 'DISABLED' },
          managedTerminationProtection: 'ENABLED',
        }),
      { code: 'ClientException' },
    );
  });
});

describe('Managed Instances providers', () => {
  const config = {
    infrastructureRoleArn: 'arn:aws:iam::123456789012:role/infra',
    instanceLaunchTemplate: {
      ec2InstanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/ecs',
      networkConfiguration: { subnets: ['subnet-1'] },
    },
  };

  it('requires the role, the instance profile and the network configuration', () => {
    assert.equal(normalizeManagedInstancesProvider(config).propagateTags, 'NONE');
    assert.throws(
      () => normalizeManagedInstancesProvider({ ...config, infrastructureRoleArn: '' }),
      /infrastructureRoleArn/,
    );
    assert.throws(
      () =>
        normalizeManagedInstancesProvider({
          ...config,
          instanceLaunchTemplate: { ...config.instanceLaunchTemplate, ec2InstanceProfileArn: '' },
        }),
      /ec2InstanceProfileArn/,
    );
  });

  it('merges launch template members on update', () => {
    const merged = mergeManagedInstancesProvider(normalizeManagedInstancesProvider(config), {
      infrastructureRoleArn: 'arn:aws:iam::123456789012:role/infra2',
      instanceLaunchTemplate: { networkConfiguration: { subnets: ['subnet-2'] } },
    });
    assert.equal(merged.infrastructureRoleArn, 'arn:aws:iam::123456789012:role/infra2');
    assert.deepEqual(merged.instanceLaunchTemplate?.networkConfiguration, { subnets: ['subnet-2'] });
    assert.equal(
      merged.instanceLaunchTemplate?.ec2InstanceProfileArn,
      config.instanceLaunchTemplate.ec2InstanceProfileArn,
    );
  });
});

describe('capacityProviderView', () => {
  it('shows tags only when asked', () => {
    const rec = { ...fargateProvider(scope, 'FARGATE'), tags: [{ key: 'a', value: 'b' }] };
    assert.equal('tags' in capacityProviderView(rec, false), false);
    assert.deepEqual(capacityProviderView(rec, true).tags, [{ key: 'a', value: 'b' }]);
  });
});
