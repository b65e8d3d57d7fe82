import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { upBanner, type BannerInput } from './banner.js';

const input: BannerInput = {
  url: 'http://127.0.0.1:7345',
  region: 'eu-west-1',
  cluster: 'default',
  dataDir: '/root/.berth',
  agentDataDir: '/root/.berth/agent',
  taskSubnetCidr: '198.19.0.0/24',
  dockerVersion: '24.0.7',
};

describe('berth up banner', () => {
  it('names the endpoint, the cluster, the task subnet and the engine', () => {
    const b = upBanner(input);
    assert.match(b, /Berth is up\./);
    assert.match(b, /ECS API endpoint {3}http:\/\/127\.0\.0\.1:7345\n/);
    assert.match(b, /cluster {12}default /);
    assert.match(b, /awsvpc task IPs {4}198\.19\.0\.0\/24/);
    assert.match(b, /Docker engine {6}24\.0\.7/);
  });

  it('gives AWS CLI commands for the endpoint and region, FARGATE with awsvpc', () => {
    const b = upBanner(input);
    assert.ok(
      b.includes('export AWS_ACCESS_KEY_ID=berth AWS_SECRET_ACCESS_KEY=berth AWS_DEFAULT_REGION=eu-west-1'),
    );
    assert.ok(
      b.includes('aws --endpoint-url http://127.0.0.1:7345 ecs register-task-definition --family webserver'),
    );
    assert.ok(
      b.includes(
        'aws --endpoint-url http://127.0.0.1:7345 ecs run-task --launch-type FARGATE --task-definition webserver',
      ),
    );
    assert.ok(
      b.includes(
        "--network-configuration 'awsvpcConfiguration={subnets=[subnet-local],assignPublicIp=DISABLED}'",
      ),
    );
    assert.ok(b.includes('ecs describe-tasks --tasks <task-id>'));
    assert.ok(b.includes('ecs stop-task --task <task-id>'));
    assert.ok(b.includes('berth logs <task-id> --follow --endpoint http://127.0.0.1:7345'));
  });

  it('quotes the container definitions for the shell', () => {
    const line = upBanner(input)
      .split('\n')
      .find((l) => l.includes('--container-definitions'));
    const m = /--container-definitions '(.*)'$/.exec(line ?? '');
    assert.ok(m, line);
    assert.deepEqual(JSON.parse(m[1]!), [
      { name: 'web', image: 'nginx', memory: 100, cpu: 99, portMappings: [{ containerPort: 80 }] },
    ]);
  });

  it('names a cluster other than default in every command', () => {
    const b = upBanner({ ...input, cluster: 'lab' });
    assert.ok(b.includes('ecs run-task --cluster lab --launch-type FARGATE'));
    assert.ok(b.includes('ecs describe-tasks --cluster lab --tasks <task-id>'));
    assert.ok(b.includes('ecs stop-task --cluster lab --task <task-id>'));
    assert.ok(b.includes('berth logs <task-id> --cluster lab --follow'));
  });
});
