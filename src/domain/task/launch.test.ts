import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkLaunchTypeCompatible, checkPlatformVersion, resolveAwsvpcConfiguration } from './launch.js';

describe('launch rules shared by RunTask and services', () => {
  it('the task definition must support the launch type; MANAGED_INSTANCES is refused', () => {
    assert.doesNotThrow(() => checkLaunchTypeCompatible({}, 'EC2'));
    assert.throws(() => checkLaunchTypeCompatible({}, 'FARGATE'), /does not support launch_type FARGATE/);
    assert.throws(
      () => checkLaunchTypeCompatible({ compatibilities: ['EC2', 'MANAGED_INSTANCES'] }, 'MANAGED_INSTANCES'),
      /MANAGED_INSTANCES/,
    );
  });

  it('awsvpc needs subnets and gets ECS defaults; other modes take no configuration', () => {
    assert.deepEqual(
      resolveAwsvpcConfiguration(
        { networkMode: 'awsvpc' },
        { awsvpcConfiguration: { subnets: ['s'] } },
        'EC2',
      ),
      {
        subnets: ['s'],
        securityGroups: [],
        assignPublicIp: 'DISABLED',
      },
    );
    assert.equal(resolveAwsvpcConfiguration({}, undefined, 'EC2'), undefined);
    assert.throws(
      () => resolveAwsvpcConfiguration({ networkMode: 'awsvpc' }, undefined, 'EC2'),
      /must be provided/,
    );
    assert.throws(
      () =>
        resolveAwsvpcConfiguration(
          { networkMode: 'bridge' },
          { awsvpcConfiguration: { subnets: ['s'] } },
          'EC2',
        ),
      /not valid/,
    );
    assert.throws(
      () =>
        resolveAwsvpcConfiguration(
          { networkMode: 'awsvpc' },
          { awsvpcConfiguration: { subnets: ['s'], assignPublicIp: 'ENABLED' } },
          'EC2',
        ),
      /Assign public IP/,
    );
  });

  it('platformVersion: FARGATE only, LATEST or 1.4.0', () => {
    assert.doesNotThrow(() => checkPlatformVersion(undefined, 'EC2'));
    assert.doesNotThrow(() => checkPlatformVersion('LATEST', 'FARGATE'));
    assert.throws(() => checkPlatformVersion('LATEST', 'EC2'), /only supported for tasks on FARGATE/);
    assert.throws(
      () => checkPlatformVersion('1.3.0', 'FARGATE'),
      (e: unknown) => (e as { code?: string }).code === 'PlatformUnknownException',
    );
  });
});
