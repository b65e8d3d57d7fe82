import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keys } from '../store/keys.js';
import { resolveResourceKey } from './resource-keys.js';

const scope = { account: '123456789012', region: 'us-east-1' };
const A = 'arn:aws:ecs:us-east-1:123456789012';

const invalid = (arn: string, pattern: RegExp) =>
  assert.throws(
    () => resolveResourceKey(scope, arn),
    (e: Error) => e.name === 'InvalidParameterException' && pattern.test(e.message),
  );

describe('resolveResourceKey', () => {
  it('maps every taggable ARN to its record key', () => {
    assert.deepEqual(resolveResourceKey(scope, `${A}:cluster/prod`), {
      kind: 'cluster',
      key: keys.cluster(scope, 'prod'),
      cluster: 'prod',
    });
    assert.deepEqual(resolveResourceKey(scope, `${A}:task-definition/web-app:12`), {
      kind: 'task-definition',
      key: keys.taskDefinition(scope, 'web-app', 12),
    });
    assert.deepEqual(resolveResourceKey(scope, `${A}:capacity-provider/spot_cp`), {
      kind: 'capacity-provider',
      key: keys.capacityProvider(scope, 'spot_cp'),
    });
    assert.deepEqual(
      resolveResourceKey(scope, `${A}:container-instance/prod/0123456789abcdef0123456789abcdef`),
      {
        kind: 'container-instance',
        key: keys.containerInstance(scope, 'prod', '0123456789abcdef0123456789abcdef'),
        cluster: 'prod',
      },
    );
    assert.deepEqual(resolveResourceKey(scope, `${A}:task/prod/6f1c`), {
      kind: 'task',
      key: keys.task(scope, 'prod', '6f1c'),
      cluster: 'prod',
    });
    assert.deepEqual(resolveResourceKey(scope, `${A}:service/prod/web`), {
      kind: 'service',
      key: keys.service(scope, 'prod', 'web'),
      cluster: 'prod',
    });
    assert.deepEqual(resolveResourceKey(scope, `${A}:task-set/prod/web/ecs-svc/1234567890123456789`), {
      kind: 'task-set',
      key: keys.service(scope, 'prod', 'web'),
      cluster: 'prod',
      taskSetId: 'ecs-svc/1234567890123456789',
    });
    assert.equal(resolveResourceKey(scope, `${A}:task-set/prod/web/ts1`).taskSetId, 'ts1');
  });

  it('rejects what is not an ECS ARN', () => {
    invalid('prod', /not valid: expected an Amazon ECS ARN/);
    invalid('arn:aws:iam::123456789012:role/x', /service 'iam' is not ecs/);
  });

  it('rejects ARNs of another region or account', () => {
    invalid('arn:aws:ecs:eu-west-1:123456789012:cluster/prod', /region 'eu-west-1'/);
    invalid('arn:aws:ecs:us-east-1:999999999999:cluster/prod', /account '999999999999'/);
  });

  it('rejects types that cannot be tagged', () => {
    invalid(`${A}:container/prod/t/c`, /type 'container' cannot be tagged/);
  });

  it('rejects short ARNs of cluster-scoped resources', () => {
    invalid(`${A}:service/web`, /short ARN format service\/<id>/);
    invalid(`${A}:task/6f1c`, /short ARN format task\/<id>/);
    invalid(`${A}:container-instance/0123`, /short ARN format container-instance/);
  });

  it('rejects malformed paths and task definition revisions', () => {
    invalid(`${A}:cluster/a/b`, /expected the form cluster\/<name>/);
    invalid(`${A}:task-set/prod/web`, /task-set\/<cluster>\/<service>\/<id>/);
    invalid(`${A}:task-set/prod/web/ecs-svc/1/2`, /task-set\/<cluster>\/<service>\/<id>/);
    invalid(`${A}:task-definition/web`, /task-definition\/<family>:<revision>/);
    invalid(`${A}:task-definition/web:0`, /<family>:<revision>/);
    invalid(`${A}:task-definition/web:x`, /<family>:<revision>/);
    invalid(`${A}:service/prod/we b`, /'we b' is not a valid name/);
    invalid(`${A}:task/prod/..%2f`, /not a valid name/);
  });
});
