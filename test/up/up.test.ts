// Acceptance test of issue 3's `berth up`: one process with the control plane and a local agent;
// a user's session through the AWS CLI. The ECS quick-start task definition (nginx replaced by the
// locally built busybox running httpd) runs with --launch-type FARGATE, answers HTTP at its own
// IP, carries the FARGATE size as its limits, reads the task metadata endpoint from inside,
// shows its output through `berth logs`, and stops. Every wait is bounded; every container,
// network and directory this test makes is removed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ECSClient, Task } from '@aws-sdk/client-ecs';
import { ecsClient, freePort, repoRoot } from '../support/berth-process.js';
import { busyboxImage, ensureBusyboxImage } from '../support/images.js';
import { startBerthUp, waitForTasks, type UpProcess } from './up-process.js';

const run = promisify(execFile);
const berthBin = join(repoRoot, 'bin', 'berth.js');
const awsvpcConfig = 'awsvpcConfiguration={subnets=[subnet-local],assignPublicIp=DISABLED}';

let up: UpProcess;
let ecs: ECSClient;
let work: string;

async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('aws', ['--endpoint-url', up.url, '--output', 'json', 'ecs', ...args], {
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

async function registerFromFile(def: unknown): Promise<void> {
  const file = join(work, `td-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(def));
  await aws('register-task-definition', '--cli-input-json', `file://${file}`);
}

async function runFargate(family: string): Promise<string> {
  const r = (await aws(
    'run-task',
    '--launch-type',
    'FARGATE',
    '--task-definition',
    family,
    '--network-configuration',
    awsvpcConfig,
  )) as { tasks: { taskArn: string }[]; failures: unknown[] };
  assert.deepEqual(r.failures, [], 'RunTask placed the task');
  const arn = r.tasks[0]?.taskArn;
  assert.ok(arn);
  up.track(arn);
  return arn;
}

const taskId = (arn: string): string => arn.split('/').pop()!;

/** The engine id of a task's container, by the labels the agent puts on it. */
async function containerOf(taskArn: string, name: string): Promise<string> {
  const { stdout } = await run(
    'docker',
    [
      'ps',
      '-q',
      '--filter',
      `label=com.amazonaws.ecs.task-arn=${taskArn}`,
      '--filter',
      `label=com.amazonaws.ecs.container-name=${name}`,
    ],
    { timeout: 30_000 },
  );
  const ids = stdout.split('\n').filter(Boolean);
  assert.equal(ids.length, 1, `one running container ${name} of ${taskArn}: ${ids.join(',')}`);
  return ids[0]!;
}

async function httpGet(url: string, timeoutMs = 15_000): Promise<{ status: number; text: string }> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return { status: r.status, text: await r.text() };
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms: ${String(last)}`);
}

async function berthLogs(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [berthBin, 'logs', ...args, '--endpoint', up.url], { timeout: 30_000 });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  await ensureBusyboxImage();
  work = mkdtempSync(join(tmpdir(), 'berth-up-test-'));
  up = await startBerthUp();
  ecs = ecsClient(up.url);
});

after(async () => {
  ecs?.destroy();
  await up?.stop();
  await up?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('berth up', () => {
  it('prints the endpoint and AWS CLI commands that use it', () => {
    const out = up.output();
    assert.match(out, new RegExp(`ECS API endpoint\\s+${up.url.replace(/\./g, '\\.')}`));
    assert.ok(out.includes(`aws --endpoint-url ${up.url} ecs run-task --launch-type FARGATE`));
    assert.ok(out.includes('export AWS_ACCESS_KEY_ID='));
    assert.ok(out.includes(awsvpcConfig));
    assert.ok(out.includes('berth logs <task-id>'));
  });

  describe('the ECS quick-start web server on FARGATE', () => {
    let taskArn = '';
    let task: Task;
    let web = '';

    it('registers and runs with --launch-type FARGATE until RUNNING', async () => {
      await registerFromFile({
        family: 'webserver',
        containerDefinitions: [
          {
            name: 'web',
            image: busyboxImage,
            memory: 100,
            cpu: 99,
            command: [
              'sh',
              '-c',
              'mkdir -p /www && echo hello-berth > /www/index.html && httpd -f -p 80 -h /www',
            ],
          },
        ],
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        memory: '512',
        cpu: '256',
      });
      taskArn = await runFargate('webserver');
      [task] = (await waitForTasks(ecs, 'default', [taskArn], 'RUNNING', { timeoutMs: 60_000 })) as [Task];
      assert.equal(task.launchType, 'FARGATE');
      assert.equal(task.cpu, '256');
      assert.equal(task.memory, '512');
      web = await containerOf(taskArn, 'web');
    });

    it('answers HTTP at the private IP of its network interface', async () => {
      const described = (await aws('describe-tasks', '--tasks', taskArn)) as {
        tasks: {
          attachments: { type: string; status: string; details: { name: string; value: string }[] }[];
        }[];
      };
      const eni = described.tasks[0]?.attachments.find((a) => a.type === 'ElasticNetworkInterface');
      assert.ok(eni, 'an ElasticNetworkInterface attachment');
      assert.equal(eni.status, 'ATTACHED');
      const ip = eni.details.find((d) => d.name === 'privateIPv4Address')?.value;
      assert.ok(ip, 'privateIPv4Address in the attachment details');
      const prefix = up.taskSubnet.split('.').slice(0, 3).join('.');
      assert.ok(ip.startsWith(`${prefix}.`), `${ip} is in the task subnet ${up.taskSubnet}`);
      const r = await httpGet(`http://${ip}/`);
      assert.equal(r.status, 200);
      assert.equal(r.text, 'hello-berth\n');
    });

    it('runs with the FARGATE size (256 CPU units, 512 MiB) as limits in docker inspect', async () => {
      const h = await hostConfig(web);
      assert.equal(h.NanoCpus, 0.25e9, 'the task CPU: 256 units = 0.25 CPU');
      assert.equal(h.CpuShares, 99, "the container's own cpu as its share");
      assert.equal(h.Memory, 100 * MiB, 'its own hard limit, below the task memory of 512 MiB');
    });

    it('reads ECS_CONTAINER_METADATA_URI_V4/task from inside the container', async () => {
      const { stdout } = await run(
        'docker',
        ['exec', web, 'sh', '-c', 'timeout 10 wget -qO- "$ECS_CONTAINER_METADATA_URI_V4/task"'],
        { timeout: 30_000 },
      );
      const doc = JSON.parse(stdout) as {
        TaskARN: string;
        Family: string;
        Revision: string;
        Limits: { CPU: number; Memory: number };
        LaunchType: string;
        KnownStatus: string;
        Containers: {
          Name: string;
          Limits: { CPU: number; Memory: number };
          Networks: { IPv4Addresses: string[] }[];
        }[];
      };
      assert.equal(doc.TaskARN, taskArn);
      assert.equal(doc.Family, 'webserver');
      assert.equal(doc.Revision, '1');
      assert.deepEqual(doc.Limits, { CPU: 0.25, Memory: 512 });
      assert.equal(doc.LaunchType, 'FARGATE');
      assert.equal(doc.Containers[0]?.Name, 'web');
      assert.deepEqual(doc.Containers[0]?.Limits, { CPU: 99, Memory: 100 });
      const { stdout: self } = await run(
        'docker',
        ['exec', web, 'sh', '-c', 'timeout 10 wget -qO- "$ECS_CONTAINER_METADATA_URI"'],
        { timeout: 30_000 },
      );
      assert.equal((JSON.parse(self) as { Name: string }).Name, 'web', 'v3: this container');
    });

    it('stops with stop-task: STOPPED, UserInitiated', async () => {
      await aws('stop-task', '--task', taskArn, '--reason', 'done testing');
      const [stopped] = await waitForTasks(ecs, 'default', [taskArn], 'STOPPED', { timeoutMs: 60_000 });
      assert.equal(stopped?.stopCode, 'UserInitiated');
      assert.equal(stopped?.desiredStatus, 'STOPPED');
    });
  });

  describe('berth logs', () => {
    let taskArn = '';

    it("prints a task's output, stdout and stderr", async () => {
      await registerFromFile({
        family: 'chatter',
        containerDefinitions: [
          {
            name: 'talker',
            image: busyboxImage,
            stopTimeout: 2,
            command: [
              'sh',
              '-c',
              'echo hello-from-logs; echo to-stderr >&2; i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo tick-$i; sleep 0.2; done',
            ],
          },
        ],
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        memory: '512',
        cpu: '256',
      });
      taskArn = await runFargate('chatter');
      await waitForTasks(ecs, 'default', [taskArn], 'RUNNING', { timeoutMs: 60_000 });
      const out = await until('the first lines in berth logs', async () => {
        const r = await berthLogs(taskId(taskArn));
        return r.stdout.includes('tick-1') ? r.stdout : undefined;
      });
      // Docker copies stdout and stderr on separate pipes: their relative order is not kept, a
      // stream's own order is.
      assert.ok(out.includes('to-stderr\n'), out);
      assert.match(out, /(^|\n)hello-from-logs\n(.*\n)*tick-1\n/);
      const tail = await berthLogs(taskId(taskArn), '--tail', '1', '--container', 'talker');
      assert.match(tail.stdout, /^tick-\d+\n$/, 'one line with --tail 1');
    });

    it('follows new output until the task stops', async () => {
      const child = spawn(
        process.execPath,
        [berthBin, 'logs', taskId(taskArn), '--follow', '--endpoint', up.url],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      try {
        const before = (await berthLogs(taskId(taskArn))).stdout;
        const seen = Math.max(...[...before.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1])), 0);
        await until('followed output to grow', () =>
          Promise.resolve(
            [...out.matchAll(/tick-(\d+)/g)].some((m) => Number(m[1]) > seen + 3) ? true : undefined,
          ),
        );
        await aws('stop-task', '--task', taskArn);
        const code = await Promise.race([
          exited,
          new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
        ]);
        assert.equal(code, 0, `berth logs --follow ends by itself when the task stops:\n${out}`);
      } finally {
        child.kill('SIGKILL');
      }
    });
  });

  describe('stopping and starting berth up again', () => {
    let arn = '';
    let cid = '';
    let startedAt = '';

    it('exits on SIGINT and leaves running task containers alone', async () => {
      await registerFromFile({
        family: 'survivor',
        containerDefinitions: [
          { name: 'sleeper', image: busyboxImage, command: ['sleep', '3600'], stopTimeout: 2 },
        ],
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        memory: '512',
        cpu: '256',
      });
      arn = await runFargate('survivor');
      await waitForTasks(ecs, 'default', [arn], 'RUNNING', { timeoutMs: 60_000 });
      cid = await containerOf(arn, 'sleeper');
      const h = await hostConfig(cid);
      assert.equal(
        h.Memory,
        512 * MiB,
        'a container without its own memory gets the task memory as its limit',
      );
      assert.equal(h.NanoCpus, 0.25e9);
      startedAt = await containerStartedAt(cid);
      const code = await up.stop('SIGINT');
      assert.equal(code, 0, up.output());
      const { stdout } = await run('docker', ['inspect', '--format', '{{.State.Running}}', cid], {
        timeout: 30_000,
      });
      assert.equal(stdout.trim(), 'true', 'the task container still runs');
    });

    it('picks the running task up again, without restarting its container', async () => {
      ecs.destroy();
      up = await startBerthUp({ resume: up });
      ecs = ecsClient(up.url);
      const [t] = await waitForTasks(ecs, 'default', [arn], 'RUNNING', { timeoutMs: 30_000 });
      assert.equal(t?.desiredStatus, 'RUNNING');
      assert.equal(await containerOf(arn, 'sleeper'), cid, 'the same container');
      assert.equal(await containerStartedAt(cid), startedAt, 'never restarted');
      await aws('stop-task', '--task', arn);
      await waitForTasks(ecs, 'default', [arn], 'STOPPED', { timeoutMs: 60_000 });
    });
  });
});

describe('berth up without Docker', () => {
  it('says how to get an engine and starts nothing', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-up-nodocker-'));
    try {
      const r = await run(
        process.execPath,
        [
          berthBin,
          'up',
          '--port',
          String(port),
          '--data-dir',
          dataDir,
          '--docker-socket',
          join(dataDir, 'no-docker.sock'),
        ],
        { timeout: 30_000 },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? '' }),
      );
      assert.notEqual(r.code, 0);
      assert.ok(
        r.stderr.includes(`no Docker engine answers at ${join(dataDir, 'no-docker.sock')}`),
        r.stderr,
      );
      assert.ok(r.stderr.includes('apt-get install -y docker.io'), r.stderr);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'no control plane was left listening');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const MiB = 1024 * 1024;

interface HostConfig {
  NanoCpus: number;
  CpuShares: number;
  Memory: number;
}

async function containerStartedAt(cid: string): Promise<string> {
  const { stdout } = await run('docker', ['inspect', '--format', '{{.State.StartedAt}}', cid], {
    timeout: 30_000,
  });
  return stdout.trim();
}

async function hostConfig(cid: string): Promise<HostConfig> {
  const { stdout } = await run('docker', ['inspect', '--format', '{{json .HostConfig}}', cid], {
    timeout: 30_000,
  });
  return JSON.parse(stdout) as HostConfig;
}
