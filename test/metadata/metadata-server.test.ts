// The task metadata server as containers see it: started as the agent starts it (default listen
// 169.254.170.2:80), then read from inside real containers, on Docker's default bridge and on a
// user-defined bridge like the agent's awsvpc task network, through their default route. A
// second server on the same host (a second agent) must fall back to another address that
// containers also reach. Every container is removed, every wait bounded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { startMetadataServer, type MetadataServer } from '../../src/agent/metadata/server.js';
import { FakeTaskView, taskSnapshot } from '../../src/agent/metadata/test-support.js';
import { busyboxImage, ensureBusyboxImage } from '../support/images.js';

const run = promisify(execFile);
const runId = randomBytes(3).toString('hex');
const network = `berth-md-test-${runId}`;
const log = pino({ level: 'silent' });
const view = new FakeTaskView([taskSnapshot()]);
const task = view.tasks[0]!;

/** GETs a URL from inside a fresh busybox container (busybox wget; its -T flag crashes, hence `timeout`). */
async function wgetFromContainer(url: string, dockerNetwork?: string): Promise<string> {
  const { stdout } = await run(
    'docker',
    [
      'run',
      '--rm',
      '--label',
      `org.berth.test.run=${runId}`,
      ...(dockerNetwork ? ['--network', dockerNetwork] : []),
      busyboxImage,
      'timeout',
      '10',
      'wget',
      '-qO-',
      url,
    ],
    { timeout: 30_000 },
  );
  return stdout;
}

/** True when something accepts TCP connections there. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 1_000 });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

describe('task metadata endpoint from inside containers', () => {
  let first: MetadataServer;
  let second: MetadataServer;
  let linkLocalWasFree = false;

  before(async () => {
    await ensureBusyboxImage();
    linkLocalWasFree = !(await accepts('169.254.170.2', 80));
    first = await startMetadataServer(view, { log });
    second = await startMetadataServer(view, { log });
    await run(
      'docker',
      ['network', 'create', '--subnet', '198.18.231.0/24', '--label', `org.berth.test.run=${runId}`, network],
      {
        timeout: 30_000,
      },
    );
  });

  after(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await run('docker', ['network', 'rm', network], { timeout: 30_000 }).catch(() => undefined);
  });

  it(
    'owns 169.254.170.2:80 when it is free and the agent runs as root',
    { skip: process.getuid?.() !== 0 },
    () => {
      if (linkLocalWasFree) assert.equal(first.baseUrl, 'http://169.254.170.2');
      assert.notEqual(second.baseUrl, first.baseUrl, 'the second server fell back to another address');
    },
  );

  it('answers /v4/<id>/task to a container on the default bridge', async () => {
    const doc = JSON.parse(await wgetFromContainer(`${first.baseUrl}/v4/md-web/task`)) as Record<
      string,
      unknown
    >;
    assert.equal(doc.TaskARN, task.task.taskArn);
    assert.equal(doc.Family, 'webserver');
    assert.deepEqual(doc.Limits, { CPU: 0.25, Memory: 512 });
    assert.equal((doc.Containers as { Name: string }[])[0]?.Name, 'web');
  });

  it('answers a container on a user-defined bridge (the awsvpc task network kind)', async () => {
    const doc = JSON.parse(await wgetFromContainer(`${first.baseUrl}/v4/md-web`, network)) as Record<
      string,
      unknown
    >;
    assert.equal(doc.Name, 'web');
    assert.equal(doc.ContainerARN, task.containers[0]!.containerArn);
  });

  it("serves containers at the second server's fallback address too", async () => {
    const doc = JSON.parse(await wgetFromContainer(`${second.baseUrl}/v3/md-web/task`, network)) as Record<
      string,
      unknown
    >;
    assert.equal(doc.TaskARN, task.task.taskArn);
    assert.equal('LaunchType' in doc, false, 'v3 shape');
  });
});
