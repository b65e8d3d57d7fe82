import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { LogsOpenMessage } from '../domain/agent-protocol.js';
import type { TaskRecord } from '../domain/records.js';
import { keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import { waitFor } from './fake-agent.js';
import {
  LOGS_PATH,
  LogLineFramer,
  parseLogsQuery,
  registerLogsRoute,
  resolveLogsTask,
  type LogsSession,
} from './logs-relay.js';
import type { LogRelaySink } from './session.js';

const defaults = { accountId: '123456789012', defaultRegion: 'us-east-1' };

describe('parseLogsQuery', () => {
  it('reads task, cluster, container, follow and tail', () => {
    assert.deepEqual(
      parseLogsQuery({ task: 't1', cluster: 'prod', container: 'web', follow: 'true', tail: '10' }),
      {
        ok: true,
        value: { task: 't1', cluster: 'prod', container: 'web', follow: true, tail: 10 },
      },
    );
    assert.deepEqual(parseLogsQuery({ task: 't1' }), { ok: true, value: { task: 't1', follow: false } });
  });
  it('names the bad parameter', () => {
    const reason = (q: unknown) => {
      const r = parseLogsQuery(q);
      assert.equal(r.ok, false);
      return r.ok ? '' : r.reason;
    };
    assert.match(reason({}), /^task: required/);
    assert.match(reason({ task: 't', follow: 'yes' }), /^follow/);
    assert.match(reason({ task: 't', tail: '-1' }), /^tail/);
    assert.match(reason({ task: 't', cluster: ['a', 'b'] }), /^cluster: give it at most once/);
    assert.match(reason({ task: 't', region: 'US EAST' }), /^region/);
  });
});

describe('resolveLogsTask', () => {
  it('takes cluster, account and region from ARNs, else from the query and defaults', () => {
    const arn = 'arn:aws:ecs:eu-west-1:222222222222:task/prod/abc';
    assert.deepEqual(resolveLogsTask({ task: arn, follow: false }, defaults), {
      ok: true,
      value: { scope: { account: '222222222222', region: 'eu-west-1' }, cluster: 'prod', id: 'abc' },
    });
    assert.deepEqual(resolveLogsTask({ task: 'abc', follow: false }, defaults), {
      ok: true,
      value: { scope: { account: '123456789012', region: 'us-east-1' }, cluster: 'default', id: 'abc' },
    });
    assert.deepEqual(
      resolveLogsTask(
        { task: 'abc', cluster: 'arn:aws:ecs:ap-south-1:123456789012:cluster/c1', follow: false },
        defaults,
      ),
      {
        ok: true,
        value: { scope: { account: '123456789012', region: 'ap-south-1' }, cluster: 'c1', id: 'abc' },
      },
    );
  });
  it('refuses a task ARN of another cluster than the one named, and junk', () => {
    const r = resolveLogsTask(
      { task: 'arn:aws:ecs:us-east-1:123456789012:task/prod/abc', cluster: 'dev', follow: false },
      defaults,
    );
    assert.equal(r.ok, false);
    assert.equal(resolveLogsTask({ task: 'a/b', follow: false }, defaults).ok, false);
    assert.equal(
      resolveLogsTask({ task: 'arn:aws:ecs:us-east-1:1:cluster/x', follow: false }, defaults).ok,
      false,
    );
  });
});

describe('LogLineFramer', () => {
  it('passes output through untouched for one container', () => {
    const f = new LogLineFramer(false);
    assert.equal(f.push('web', 'stdout', 'a\npartial'), 'a\npartial');
    assert.equal(f.flush(), '');
  });
  it('prefixes whole lines, holding partial lines per container and stream', () => {
    const f = new LogLineFramer(true);
    assert.equal(f.push('web', 'stdout', 'one\ntw'), 'web | one\n');
    assert.equal(f.push('db', 'stdout', 'x'), '');
    assert.equal(f.push('web', 'stderr', 'err\n'), 'web | err\n');
    assert.equal(f.push('web', 'stdout', 'o\nthree\n'), 'web | two\nweb | three\n');
    assert.equal(f.flush(), 'db | x\n');
    assert.equal(f.flush(), '');
  });
});

class FakeLogsSession implements LogsSession {
  opens: Omit<LogsOpenMessage, 'type' | 'streamId'>[] = [];
  sink: LogRelaySink | undefined;
  closes = 0;
  onOpen: ((sink: LogRelaySink) => void) | undefined;
  openLogs(open: Omit<LogsOpenMessage, 'type' | 'streamId'>, sink: LogRelaySink) {
    this.opens.push(open);
    this.sink = sink;
    setImmediate(() => this.onOpen?.(sink));
    return { close: () => void this.closes++ };
  }
}

const SCOPE = { account: '123456789012', region: 'us-east-1' };
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/prod/t1';

async function setup(containers: string[], session: FakeLogsSession | undefined, waitMs = 200) {
  const store = new MemoryStore();
  const task: TaskRecord = {
    taskArn: TASK_ARN,
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
    containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/i1',
    containers: containers.map((name) => ({ name })),
    tags: [],
    berth: {},
  };
  await store.txn([], [{ kind: 'put', key: keys.task(SCOPE, 'prod', 't1'), value: task }]);
  const app = Fastify({ forceCloseConnections: true });
  registerLogsRoute(app, {
    store,
    ...defaults,
    firstAnswerWaitMs: waitMs,
    maxBufferedBytes: 64 * 1024,
    sessionForTask: () => session,
  });
  return app;
}

const apps: FastifyInstance[] = [];
after(async () => {
  for (const a of apps) await a.close();
});

describe(`GET ${LOGS_PATH}`, () => {
  it('relays the output of a task with several containers, prefixed, until logs-end', async () => {
    const s = new FakeLogsSession();
    s.onOpen = (sink) => {
      sink.data({
        type: 'logs-data',
        streamId: 'x',
        containerName: 'web',
        stream: 'stdout',
        data: 'hello\nwor',
      });
      sink.data({ type: 'logs-data', streamId: 'x', containerName: 'db', stream: 'stderr', data: 'ready\n' });
      sink.data({ type: 'logs-data', streamId: 'x', containerName: 'web', stream: 'stdout', data: 'ld' });
      sink.end();
    };
    const app = await setup(['web', 'db'], s);
    const r = await app.inject({ method: 'GET', url: `${LOGS_PATH}?cluster=prod&task=t1&tail=5` });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.equal(r.body, 'web | hello\ndb | ready\nweb | world\n');
    assert.deepEqual(s.opens, [{ taskArn: TASK_ARN, follow: false, tail: 5 }]);
  });

  it('does not prefix when one container is asked for', async () => {
    const s = new FakeLogsSession();
    s.onOpen = (sink) => {
      sink.data({ type: 'logs-data', streamId: 'x', containerName: 'web', stream: 'stdout', data: 'a\nb' });
      sink.end();
    };
    const app = await setup(['web', 'db'], s);
    const r = await app.inject({
      method: 'GET',
      url: `${LOGS_PATH}?task=${encodeURIComponent(TASK_ARN)}&container=web&follow=true`,
    });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, 'a\nb');
    assert.deepEqual(s.opens, [{ taskArn: TASK_ARN, follow: true, containerName: 'web' }]);
  });

  it('answers 404 for an unknown task or container, 400 for a bad query', async () => {
    const app = await setup(['web'], new FakeLogsSession());
    const unknown = await app.inject({ method: 'GET', url: `${LOGS_PATH}?cluster=prod&task=nope` });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().__type, 'InvalidParameterException');
    assert.match(unknown.json().message, /task nope was not found in cluster prod/);
    const noContainer = await app.inject({
      method: 'GET',
      url: `${LOGS_PATH}?cluster=prod&task=t1&container=db`,
    });
    assert.equal(noContainer.statusCode, 404);
    assert.match(noContainer.json().message, /no container named db/);
    const bad = await app.inject({ method: 'GET', url: `${LOGS_PATH}?cluster=prod&task=t1&tail=x` });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /^tail/);
  });

  it('answers 503 when the host has no session', async () => {
    const app = await setup(['web'], undefined);
    const r = await app.inject({ method: 'GET', url: `${LOGS_PATH}?cluster=prod&task=t1` });
    assert.equal(r.statusCode, 503);
    assert.match(r.json().message, /container instance .*i1 is not connected/);
  });

  it('answers 502 when the agent fails before any output, and ends the text when it fails later', async () => {
    const early = new FakeLogsSession();
    early.onOpen = (sink) => sink.end('no such container');
    const r1 = await (
      await setup(['web'], early)
    ).inject({ method: 'GET', url: `${LOGS_PATH}?cluster=prod&task=t1` });
    assert.equal(r1.statusCode, 502);
    assert.match(r1.json().message, /no such container/);

    const late = new FakeLogsSession();
    late.onOpen = (sink) => {
      sink.data({ type: 'logs-data', streamId: 'x', containerName: 'web', stream: 'stdout', data: 'line\n' });
      setTimeout(() => sink.end('docker went away'), 10);
    };
    const r2 = await (
      await setup(['web'], late)
    ).inject({ method: 'GET', url: `${LOGS_PATH}?cluster=prod&task=t1` });
    assert.equal(r2.statusCode, 200);
    assert.equal(r2.body, 'line\nberth: log stream ended: docker went away\n');
  });

  it('sends headers after the wait even when the agent is silent, and tells the agent when the client goes away', async () => {
    const s = new FakeLogsSession();
    const app = await setup(['web'], s, 50);
    apps.push(app);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const ac = new AbortController();
    const res = await fetch(`${url}${LOGS_PATH}?cluster=prod&task=t1&follow=true`, { signal: ac.signal });
    assert.equal(res.status, 200);
    s.sink?.data({
      type: 'logs-data',
      streamId: 'x',
      containerName: 'web',
      stream: 'stdout',
      data: 'tick\n',
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), 'tick\n');
    ac.abort();
    await waitFor('logs-close to the agent', () => s.closes === 1, 3_000);
    assert.equal(s.closes, 1);
  });
});
