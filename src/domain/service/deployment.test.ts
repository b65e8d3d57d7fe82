import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildDeployment,
  buildServiceDeploymentRecord,
  historyStopped,
  needsNewDeployment,
  rollingBounds,
  withNewPrimary,
  type DeploymentSpec,
} from './deployment.js';
import {
  deploymentIdFromSeed,
  isDeploymentId,
  serviceDeploymentIdFromSeed,
  serviceRevisionIdFromSeed,
} from './ids.js';
import { ARN, D1, T0, deployment } from './test-support.js';

const spec: DeploymentSpec = { taskDefinition: `${ARN}:task-definition/web:1`, launchType: 'EC2' };
const noPlacement = { placementConstraints: [], placementStrategy: [] };

describe('deployment ids', () => {
  it('ecs-svc/<19 digits>, stable per seed, distinct across seeds', () => {
    const a = deploymentIdFromSeed('seed-a');
    assert.ok(isDeploymentId(a), a);
    assert.equal(a, deploymentIdFromSeed('seed-a'));
    assert.notEqual(a, deploymentIdFromSeed('seed-b'));
    assert.match(serviceDeploymentIdFromSeed('x'), /^[A-Za-z0-9_-]{22}$/);
    assert.match(serviceRevisionIdFromSeed('x'), /^[1-9][0-9]{18}$/);
  });
});

describe('needsNewDeployment', () => {
  const base = { spec, placement: noPlacement };
  it('a new task definition, capacity, network or placement needs one', () => {
    assert.ok(
      needsNewDeployment(base, {
        spec: { ...spec, taskDefinition: `${ARN}:task-definition/web:2` },
        placement: noPlacement,
      }),
    );
    assert.ok(
      needsNewDeployment(base, { spec: { ...spec, launchType: 'EXTERNAL' }, placement: noPlacement }),
    );
    assert.ok(
      needsNewDeployment(base, {
        spec: { ...spec, networkConfiguration: { awsvpcConfiguration: { subnets: ['s'] } } },
        placement: noPlacement,
      }),
    );
    assert.ok(needsNewDeployment(base, { spec, placement: { placementStrategy: [{ type: 'random' }] } }));
  });
  it('the same spec does not (absent and empty placement lists are the same)', () => {
    assert.equal(needsNewDeployment(base, { spec: { ...spec }, placement: {} }), false);
  });
});

describe('rollingBounds', () => {
  it('floor(desired × max / 100) and ceil(desired × min / 100)', () => {
    assert.deepEqual(rollingBounds(3, { maximumPercent: 150, minimumHealthyPercent: 50 }), {
      maxTotal: 4,
      minHealthy: 2,
    });
    assert.deepEqual(rollingBounds(0, { maximumPercent: 200, minimumHealthyPercent: 100 }), {
      maxTotal: 0,
      minHealthy: 0,
    });
    assert.deepEqual(rollingBounds(10, undefined), { maxTotal: 20, minHealthy: 10 });
  });
});

describe('deployments and their history', () => {
  it('a new deployment is PRIMARY, IN_PROGRESS, with ECS reason; the old PRIMARY becomes ACTIVE', () => {
    const d = buildDeployment({ id: 'ecs-svc/2', spec, desiredCount: 3, now: T0 });
    assert.equal(d.status, 'PRIMARY');
    assert.equal(d.rolloutState, 'IN_PROGRESS');
    assert.equal(d.rolloutStateReason, 'ECS deployment ecs-svc/2 in progress.');
    assert.equal(d.createdAt, T0 / 1000);
    const list = withNewPrimary([deployment(D1)], d, T0);
    assert.deepEqual(
      list.map((x) => [x.id, x.status]),
      [
        ['ecs-svc/2', 'PRIMARY'],
        [D1, 'ACTIVE'],
      ],
    );
  });

  it('a history entry starts IN_PROGRESS and stops once', () => {
    const rec = buildServiceDeploymentRecord({
      arn: `${ARN}:service-deployment/prod/web/abc`,
      service: {
        serviceArn: `${ARN}:service/prod/web`,
        clusterArn: `${ARN}:cluster/prod`,
        createdAt: 5,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      },
      deployment: { ...deployment(D1, { desiredCount: 4 }), id: D1 },
      targetRevisionArn: 'rev',
      sources: [],
      now: T0,
    });
    assert.equal(rec.status, 'IN_PROGRESS');
    assert.deepEqual(rec.deploymentCircuitBreaker, { status: 'MONITORING', failureCount: 0, threshold: 3 });
    assert.deepEqual(rec.targetServiceRevision, {
      arn: 'rev',
      requestedTaskCount: 4,
      runningTaskCount: 0,
      pendingTaskCount: 0,
    });
    const stopped = historyStopped(rec, 'superseded', T0 + 1000);
    assert.equal(stopped.status, 'STOPPED');
    assert.equal(stopped.stoppedAt, T0 / 1000 + 1);
    assert.equal(historyStopped(stopped, 'again', T0 + 5000), stopped);
  });
});
