import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTO_SCALING_GROUP_ATTRIBUTE,
  CAPACITY_PROVIDER_ATTRIBUTE,
  instanceGroupOf,
  isInInstanceGroup,
} from './capacity-provider-instances.js';

const ASG =
  'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0d4fcf34-51b0-4b1e-8a3a-9c2a1f6f5a11:autoScalingGroupName/web-asg';

const attrs = (o: Record<string, string | undefined>) => new Map(Object.entries(o));

describe('instanceGroupOf', () => {
  it('reads the Auto Scaling group name from its ARN', () => {
    assert.deepEqual(
      instanceGroupOf({ name: 'od', autoScalingGroupProvider: { autoScalingGroupArn: ASG } }),
      {
        provider: 'od',
        autoScalingGroupArn: ASG,
        autoScalingGroupName: 'web-asg',
      },
    );
    assert.deepEqual(instanceGroupOf({ name: 'named' }), { provider: 'named' });
    // Not an ARN: taken as the group's name.
    assert.deepEqual(
      instanceGroupOf({ name: 'p', autoScalingGroupProvider: { autoScalingGroupArn: 'plain' } }),
      {
        provider: 'p',
        autoScalingGroupArn: 'plain',
        autoScalingGroupName: 'plain',
      },
    );
  });
});

describe('isInInstanceGroup', () => {
  const group = instanceGroupOf({ name: 'od', autoScalingGroupProvider: { autoScalingGroupArn: ASG } });
  it('matches the provider attribute, or the Auto Scaling group by name or ARN', () => {
    assert.equal(isInInstanceGroup(attrs({ [CAPACITY_PROVIDER_ATTRIBUTE]: 'od' }), group), true);
    assert.equal(isInInstanceGroup(attrs({ [AUTO_SCALING_GROUP_ATTRIBUTE]: 'web-asg' }), group), true);
    assert.equal(isInInstanceGroup(attrs({ [AUTO_SCALING_GROUP_ATTRIBUTE]: ASG }), group), true);
  });
  it('leaves out other providers, other groups and instances of no group', () => {
    assert.equal(isInInstanceGroup(attrs({ [CAPACITY_PROVIDER_ATTRIBUTE]: 'spot' }), group), false);
    assert.equal(isInInstanceGroup(attrs({ [AUTO_SCALING_GROUP_ATTRIBUTE]: 'other-asg' }), group), false);
    assert.equal(isInInstanceGroup(attrs({ stack: 'od' }), group), false);
    assert.equal(
      isInInstanceGroup(attrs({ [AUTO_SCALING_GROUP_ATTRIBUTE]: undefined }), { provider: 'x' }),
      false,
    );
  });
});
