// A user's scenario through the AWS CLI (whichever `aws` is on PATH: v1 with botocore, or
// Debian's awscli package), unmodified, pointed at Berth with --endpoint-url.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startBerthServer, type BerthProcess } from '../support/berth-process.js';

const run = promisify(execFile);
let berth: BerthProcess;
let work: string;

before(async () => {
  berth = await startBerthServer();
  work = mkdtempSync(join(tmpdir(), 'berth-cli-'));
});
after(async () => {
  await berth.stop();
  rmSync(work, { recursive: true, force: true });
});

async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('aws', ['--endpoint-url', berth.url, '--output', 'json', 'ecs', ...args], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'berth',
      AWS_SECRET_ACCESS_KEY: 'berth',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    },
    timeout: 60_000,
  });
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

async function awsFails(...args: string[]): Promise<string> {
  try {
    await aws(...args);
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
  assert.fail(`aws ecs ${args.join(' ')} should have failed`);
}

describe('AWS CLI scenario', () => {
  it('creates, describes, lists, tags and deletes through the CLI', async () => {
    const created = (await aws(
      'create-cluster',
      '--cluster-name',
      'cli-demo',
      '--tags',
      'key=env,value=dev',
    )) as {
      cluster: { clusterArn: string; status: string };
    };
    assert.equal(created.cluster.status, 'ACTIVE');
    assert.equal(created.cluster.clusterArn, 'arn:aws:ecs:us-east-1:123456789012:cluster/cli-demo');

    const file = join(work, 'webserver.json');
    writeFileSync(
      file,
      JSON.stringify({
        family: 'webserver',
        containerDefinitions: [{ name: 'web', image: 'nginx', memory: 100, cpu: 99 }],
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        memory: '512',
        cpu: '256',
      }),
    );
    const reg = (await aws('register-task-definition', '--cli-input-json', `file://${file}`)) as {
      taskDefinition: {
        revision: number;
        status: string;
        compatibilities: string[];
        cpu: string;
        memory: string;
      };
    };
    assert.equal(reg.taskDefinition.revision, 1);
    assert.equal(reg.taskDefinition.status, 'ACTIVE');
    assert.ok(reg.taskDefinition.compatibilities.includes('FARGATE'));
    assert.equal(reg.taskDefinition.cpu, '256');

    const desc = (await aws('describe-task-definition', '--task-definition', 'webserver')) as {
      taskDefinition: { containerDefinitions: { name: string; memory: number; cpu: number }[] };
    };
    assert.deepEqual(
      desc.taskDefinition.containerDefinitions.map((c) => [c.name, c.memory, c.cpu]),
      [['web', 100, 99]],
    );

    const list = (await aws('list-task-definitions', '--family-prefix', 'webserver')) as {
      taskDefinitionArns: string[];
    };
    assert.deepEqual(list.taskDefinitionArns, [
      'arn:aws:ecs:us-east-1:123456789012:task-definition/webserver:1',
    ]);

    const clusters = (await aws('describe-clusters', '--clusters', 'cli-demo', '--include', 'TAGS')) as {
      clusters: { tags: { key: string; value: string }[] }[];
    };
    assert.deepEqual(clusters.clusters[0]!.tags, [{ key: 'env', value: 'dev' }]);

    await aws('tag-resource', '--resource-arn', created.cluster.clusterArn, '--tags', 'key=team,value=blue');
    const tags = (await aws('list-tags-for-resource', '--resource-arn', created.cluster.clusterArn)) as {
      tags: { key: string }[];
    };
    assert.deepEqual(tags.tags.map((t) => t.key).sort(), ['env', 'team']);

    // The CLI paginates by itself through nextToken: 3 families listed 1 per page still come back whole.
    for (const f of ['pa', 'pb', 'pc']) {
      await aws(
        'register-task-definition',
        '--family',
        f,
        '--container-definitions',
        '[{"name":"a","image":"b","memory":32}]',
      );
    }
    const fams = (await aws('list-task-definition-families', '--family-prefix', 'p', '--page-size', '1')) as {
      families: string[];
    };
    assert.deepEqual(fams.families, ['pa', 'pb', 'pc']);

    const err = await awsFails('describe-task-definition', '--task-definition', 'nope');
    assert.match(err, /ClientException/);

    await aws('deregister-task-definition', '--task-definition', 'webserver:1');
    const deleted = (await aws('delete-cluster', '--cluster', 'cli-demo')) as { cluster: { status: string } };
    assert.equal(deleted.cluster.status, 'INACTIVE');
    const after = (await aws('describe-clusters', '--clusters', 'cli-demo')) as {
      clusters: { status: string }[];
    };
    assert.equal(after.clusters[0]!.status, 'INACTIVE');
  });
});
