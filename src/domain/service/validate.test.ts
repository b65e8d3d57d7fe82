import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDaemonRequest,
  checkUnsupportedServiceFeatures,
  resolveDeploymentConfiguration,
  validateDeploymentController,
  validateDesiredCount,
  validateHealthCheckGracePeriod,
  validateServiceName,
} from './validate.js';

function fails(code: string, pattern: RegExp) {
  return (e: unknown): boolean => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    assert.match(err.message ?? '', pattern);
    return true;
  };
}

describe('validateServiceName', () => {
  it('accepts 1-255 letters, digits, _ and -', () => {
    assert.equal(validateServiceName('web_1-A'), 'web_1-A');
    assert.equal(validateServiceName('a'.repeat(255)), 'a'.repeat(255));
  });
  for (const bad of ['', 'a'.repeat(256), 'web.app', 'web app', 'svc/x', 'ünï']) {
    it(`refuses '${bad.slice(0, 20)}'`, () => {
      assert.throws(() => validateServiceName(bad), fails('InvalidParameterException', /serviceName/));
    });
  }
});

describe('validateDesiredCount', () => {
  it('accepts 0 to 5000', () => {
    assert.equal(validateDesiredCount(0), 0);
    assert.equal(validateDesiredCount(5000), 5000);
  });
  for (const bad of [-1, 5001, 1.5, Number.NaN]) {
    it(`refuses ${bad}`, () => {
      assert.throws(() => validateDesiredCount(bad), fails('InvalidParameterException', /desiredCount/));
    });
  }
});

describe('resolveDeploymentConfiguration', () => {
  it('fills ECS defaults for REPLICA: 200 / 100, breaker off', () => {
    assert.deepEqual(
      resolveDeploymentConfiguration(undefined, {
        schedulingStrategy: 'REPLICA',
        deploymentController: 'ECS',
      }),
      {
        deploymentCircuitBreaker: { enable: false, rollback: false },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
      },
    );
  });

  it('fills ECS defaults for DAEMON: 100 / 0', () => {
    const c = resolveDeploymentConfiguration(
      {},
      { schedulingStrategy: 'DAEMON', deploymentController: 'ECS' },
    );
    assert.equal(c.maximumPercent, 100);
    assert.equal(c.minimumHealthyPercent, 0);
  });

  it('keeps the current members the request leaves out (UpdateService)', () => {
    const current = {
      maximumPercent: 150,
      minimumHealthyPercent: 50,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    };
    const c = resolveDeploymentConfiguration(
      { minimumHealthyPercent: 75 },
      { schedulingStrategy: 'REPLICA', deploymentController: 'ECS', current },
    );
    assert.deepEqual(c, { ...current, minimumHealthyPercent: 75 });
    assert.equal(current.minimumHealthyPercent, 50, 'the current configuration is not changed in place');
  });

  const ctx = { schedulingStrategy: 'REPLICA' as const, deploymentController: 'ECS' as const };
  const cases: [string, Parameters<typeof resolveDeploymentConfiguration>[0], RegExp][] = [
    ['maximumPercent below 100', { maximumPercent: 99 }, /maximumPercent must be an integer of at least 100/],
    [
      'minimumHealthyPercent above 100',
      { minimumHealthyPercent: 101 },
      /minimumHealthyPercent must be an integer from 0 to 100/,
    ],
    ['a fractional percent', { maximumPercent: 150.5 }, /maximumPercent/],
    ['BLUE_GREEN', { strategy: 'BLUE_GREEN' }, /strategy BLUE_GREEN is not supported/],
    ['lifecycle hooks', { lifecycleHooks: [{}] }, /lifecycleHooks/],
    ['alarms', { alarms: { alarmNames: ['a'], enable: true, rollback: true } }, /alarms/],
    [
      'a threshold of 0',
      {
        deploymentCircuitBreaker: {
          enable: true,
          rollback: false,
          thresholdConfiguration: { type: 'COUNT', value: 0 },
        },
      },
      /thresholdConfiguration.value must be a positive integer/,
    ],
    [
      'BOUNDED_PERCENT above 100',
      {
        deploymentCircuitBreaker: {
          enable: true,
          rollback: false,
          thresholdConfiguration: { type: 'BOUNDED_PERCENT', value: 150 },
        },
      },
      /at most 100/,
    ],
  ];
  for (const [name, given, pattern] of cases) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => resolveDeploymentConfiguration(given, ctx),
        fails('InvalidParameterException', pattern),
      );
    });
  }

  it('refuses a DAEMON maximumPercent other than 100', () => {
    assert.throws(
      () =>
        resolveDeploymentConfiguration(
          { maximumPercent: 200 },
          { schedulingStrategy: 'DAEMON', deploymentController: 'ECS' },
        ),
      fails('InvalidParameterException', /must be 100 for a service with the DAEMON/),
    );
  });

  it('refuses the circuit breaker for EXTERNAL services', () => {
    assert.throws(
      () =>
        resolveDeploymentConfiguration(
          { deploymentCircuitBreaker: { enable: true, rollback: true } },
          { schedulingStrategy: 'REPLICA', deploymentController: 'EXTERNAL' },
        ),
      fails('InvalidParameterException', /rolling update \(ECS\) deployment controller/),
    );
  });
});

describe('service feature and strategy checks', () => {
  it('refuses load balancers, service registries, Service Connect, EBS, Lattice, ECS Exec', () => {
    assert.throws(() => checkUnsupportedServiceFeatures({ loadBalancers: [{}] }), /loadBalancers/);
    assert.throws(() => checkUnsupportedServiceFeatures({ serviceRegistries: [{}] }), /serviceRegistries/);
    assert.throws(
      () => checkUnsupportedServiceFeatures({ serviceConnectConfiguration: { enabled: true } }),
      /Service Connect/,
    );
    assert.throws(() => checkUnsupportedServiceFeatures({ volumeConfigurations: [{ name: 'v' }] }), /EBS/);
    assert.throws(
      () =>
        checkUnsupportedServiceFeatures({
          vpcLatticeConfigurations: [{ roleArn: 'r', targetGroupArn: 't', portName: 'p' }],
        }),
      /VPC Lattice/,
    );
    assert.throws(() => checkUnsupportedServiceFeatures({ enableExecuteCommand: true }), /ECS Exec/);
    assert.doesNotThrow(() =>
      checkUnsupportedServiceFeatures({ loadBalancers: [], serviceConnectConfiguration: { enabled: false } }),
    );
  });

  it('DAEMON takes no desiredCount, no strategies, no FARGATE, only the ECS controller', () => {
    assert.throws(() => checkDaemonRequest({ desiredCount: 1 }), /does not support a desired count/);
    assert.throws(
      () => checkDaemonRequest({ placementStrategy: [{}] }),
      /does not support placement strategies/,
    );
    assert.throws(() => checkDaemonRequest({ launchType: 'FARGATE' }), /FARGATE/);
    assert.throws(
      () => checkDaemonRequest({ capacityProviderStrategy: [{}] }),
      /capacity provider strategies/,
    );
    assert.throws(
      () => checkDaemonRequest({ deploymentController: 'EXTERNAL' }),
      /ECS deployment controller/,
    );
    assert.doesNotThrow(() => checkDaemonRequest({ launchType: 'EC2', deploymentController: 'ECS' }));
  });

  it('deployment controllers: ECS by default, EXTERNAL, never CODE_DEPLOY', () => {
    assert.equal(validateDeploymentController(undefined), 'ECS');
    assert.equal(validateDeploymentController('EXTERNAL'), 'EXTERNAL');
    assert.throws(
      () => validateDeploymentController('CODE_DEPLOY'),
      fails('InvalidParameterException', /CODE_DEPLOY/),
    );
  });

  it('healthCheckGracePeriodSeconds is a non-negative integer', () => {
    assert.equal(validateHealthCheckGracePeriod(0), 0);
    assert.throws(() => validateHealthCheckGracePeriod(-1), /healthCheckGracePeriodSeconds/);
  });
});
