import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { pino } from 'pino';
import { MetadataListenError, startMetadataServer, type MetadataServer } from './server.js';
import { containerSnapshot, FakeTaskView, sampleStats, T0, taskSnapshot } from './test-support.js';

const log = pino({ level: 'silent' });

async function get(url: string): Promise<{ status: number; type: string; body: unknown; text: string }> {
  const r = await fetch(url);
  const text = await r.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, type: r.headers.get('content-type') ?? '', body, text };
}

describe('task metadata server', () => {
  const task = taskSnapshot({
    containers: [
      containerSnapshot(),
      containerSnapshot({
        name: 'sidecar',
        metadataId: 'md-side',
        dockerId: 'd51de',
        containerArn: 'arn:side',
      }),
      containerSnapshot({
        name: 'later',
        metadataId: 'md-later',
        dockerId: undefined,
        knownStatus: 'PENDING',
      }),
    ],
  });
  const view = new FakeTaskView([task]);
  let server: MetadataServer;

  before(async () => {
    server = await startMetadataServer(view, { listen: '127.0.0.1:0', log });
  });
  after(() => server.close());

  it('listens where it was asked and says so in baseUrl', () => {
    assert.match(server.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the container, its task and the task with tags, in v4 and v3', async () => {
    const c = await get(`${server.baseUrl}/v4/md-side`);
    assert.equal(c.status, 200);
    assert.equal(c.type, 'application/json');
    assert.equal((c.body as { Name: string }).Name, 'sidecar');
    assert.equal((c.body as { ContainerARN: string }).ContainerARN, 'arn:side');

    const t = await get(`${server.baseUrl}/v4/md-web/task`);
    assert.equal(t.status, 200);
    const doc = t.body as {
      TaskARN: string;
      Family: string;
      Limits: unknown;
      Containers: { Name: string }[];
    };
    assert.equal(doc.TaskARN, task.task.taskArn);
    assert.equal(doc.Family, 'webserver');
    assert.deepEqual(doc.Limits, { CPU: 0.25, Memory: 512 });
    assert.deepEqual(
      doc.Containers.map((x) => x.Name),
      ['web', 'sidecar', 'later'],
    );

    const tagged = await get(`${server.baseUrl}/v4/md-web/taskWithTags`);
    assert.equal(tagged.status, 200);
    assert.equal((tagged.body as { TaskARN: string }).TaskARN, task.task.taskArn);

    const v3 = await get(`${server.baseUrl}/v3/md-web`);
    assert.equal(v3.status, 200);
    assert.equal('ContainerARN' in (v3.body as object), false);
    const v3task = await get(`${server.baseUrl}/v3/md-web/task`);
    assert.equal('LaunchType' in (v3task.body as object), false);
  });

  it('answers an unknown id as the ECS agent does: v4 404, v3 500 (metadata) and 400 (stats)', async () => {
    const v4 = await get(`${server.baseUrl}/v4/nope`);
    assert.equal(v4.status, 404);
    assert.equal(v4.type, 'application/json');
    assert.equal(
      v4.body,
      'V4 container metadata handler: unable to get container ID from request: unable to get docker ID from v3 endpoint ID: nope',
    );
    const v4task = await get(`${server.baseUrl}/v4/nope/task`);
    assert.equal(v4task.status, 404);
    assert.equal(
      v4task.body,
      'V4 task metadata handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: nope',
    );
    assert.equal((await get(`${server.baseUrl}/v4/nope/task/stats`)).status, 404);
    const v3 = await get(`${server.baseUrl}/v3/nope/task`);
    assert.equal(v3.status, 500);
    assert.match(String(v3.body), /^V3 task metadata handler: unable to get task arn from request/);
    const v3stats = await get(`${server.baseUrl}/v3/nope/stats`);
    assert.equal(v3stats.status, 400);
    assert.match(String(v3stats.body), /^V3 container stats handler: /);
  });

  it('answers unknown paths and methods like a Go mux', async () => {
    const r = await get(`${server.baseUrl}/v5/md-web`);
    assert.equal(r.status, 404);
    assert.equal(r.text, '404 page not found\n');
    assert.equal((await get(`${server.baseUrl}/v4/md-web/tasks/extra`)).status, 404);
    const post = await fetch(`${server.baseUrl}/v4/md-web`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    await post.text();
  });

  it('serves Docker stats as-is, with network rates from the previous sample on v4', async () => {
    view.stats_.set('d0c0e1d', [
      sampleStats(T0, 1_000, 500),
      sampleStats(T0 + 2_000, 5_000, 1_500),
      sampleStats(T0 + 3_000, 6_000, 1_600),
    ]);
    const first = await get(`${server.baseUrl}/v4/md-web/stats`);
    assert.equal(first.status, 200);
    const f = first.body as Record<string, unknown>;
    assert.deepEqual(f.memory_stats, { usage: 2_000 });
    assert.equal('network_rate_stats' in f, false, 'no rate without an earlier sample');
    const second = (await get(`${server.baseUrl}/v4/md-web/stats`)).body as Record<string, unknown>;
    assert.deepEqual(second.network_rate_stats, { rx_bytes_per_sec: 2_000, tx_bytes_per_sec: 500 });
    const v3 = (await get(`${server.baseUrl}/v3/md-web/stats`)).body as Record<string, unknown>;
    assert.equal('network_rate_stats' in v3, false, 'v3 stats are the plain Docker document');
    assert.deepEqual(v3.networks, { eth0: { rx_bytes: 6_000 } });
  });

  it('answers 500 when the engine has no stats, and 404 for a container not created yet', async () => {
    const failed = await get(`${server.baseUrl}/v4/md-side/stats`);
    assert.equal(failed.status, 500);
    assert.equal(failed.body, 'Unable to get container stats for: d51de');
    const later = await get(`${server.baseUrl}/v4/md-later/stats`);
    assert.equal(later.status, 404);
  });

  it('serves task stats keyed by Docker id, null where the engine had none', async () => {
    view.stats_.set('d0c0e1d', [sampleStats(T0 + 10_000, 1, 1)]);
    const r = await get(`${server.baseUrl}/v4/md-side/task/stats`);
    assert.equal(r.status, 200);
    const body = r.body as Record<string, Record<string, unknown> | null>;
    assert.deepEqual(Object.keys(body).sort(), ['d0c0e1d', 'd51de']);
    assert.equal(body.d51de, null);
    assert.deepEqual(body.d0c0e1d?.memory_stats, { usage: 2_000 });
  });
});

describe('task metadata server: where it listens', () => {
  const view = new FakeTaskView([taskSnapshot()]);
  let blocker: Server;
  let blockedPort = 0;

  before(async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const a = blocker.address();
    blockedPort = typeof a === 'object' && a ? a.port : 0;
  });
  after(() => new Promise<void>((r) => blocker.close(() => r())));

  it('falls back to the given host when the wanted port is taken, and serves there', async () => {
    const s = await startMetadataServer(view, {
      listen: `127.0.0.1:${blockedPort}`,
      fallbackHost: '127.0.0.1:0',
      log,
    });
    try {
      assert.match(s.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(s.baseUrl, `http://127.0.0.1:${blockedPort}`);
      const r = await get(`${s.baseUrl}/v4/md-web/task`);
      assert.equal(r.status, 200);
    } finally {
      await s.close();
    }
  });

  it('lets a second server on the same address fall back instead of failing', async () => {
    const first = await startMetadataServer(view, { listen: '127.0.0.1:0', log });
    const port = Number(new URL(first.baseUrl).port);
    const second = await startMetadataServer(view, {
      listen: `127.0.0.1:${port}`,
      fallbackHost: '127.0.0.1:0',
      log,
    });
    try {
      assert.notEqual(second.baseUrl, first.baseUrl);
      assert.equal((await get(`${first.baseUrl}/v4/md-web`)).status, 200);
      assert.equal((await get(`${second.baseUrl}/v4/md-web`)).status, 200);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('closes idempotently, with keep-alive connections open', async () => {
    const s = await startMetadataServer(view, { listen: '127.0.0.1:0', log });
    assert.equal((await get(`${s.baseUrl}/v4/md-web`)).status, 200);
    await Promise.all([s.close(), s.close()]);
    await assert.rejects(fetch(`${s.baseUrl}/v4/md-web`));
  });

  it('gives a routable address in baseUrl when it listens on every address', async () => {
    const s = await startMetadataServer(view, { listen: '0.0.0.0:0', log });
    try {
      const u = new URL(s.baseUrl);
      assert.notEqual(u.hostname, '0.0.0.0');
      assert.equal((await get(`http://127.0.0.1:${u.port}/v4/md-web`)).status, 200);
    } finally {
      await s.close();
    }
  });

  it('rejects a malformed listen option, naming it', async () => {
    await assert.rejects(startMetadataServer(view, { listen: 'no-port-here', log }), (e: unknown) => {
      assert.ok(e instanceof MetadataListenError);
      assert.match(e.message, /^listen: 'no-port-here' must be host:port/);
      return true;
    });
  });
});
