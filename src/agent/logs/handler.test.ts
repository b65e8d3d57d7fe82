import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { LogsDataMessage, LogsEndMessage, LogsOpenMessage } from '../../domain/agent-protocol.js';
import type { LogLine } from '../runtime/container-runtime.js';
import { containerSnapshot, FakeTaskView, taskSnapshot } from '../metadata/test-support.js';
import { createLogsHandler, MAX_CHUNK_BYTES } from './handler.js';

const log = pino({ level: 'silent' });
type Sent = LogsDataMessage | LogsEndMessage;

const out = (text: string): LogLine => ({ stream: 'stdout', text });
const err = (text: string): LogLine => ({ stream: 'stderr', text });

function setup() {
  const task = taskSnapshot({
    containers: [
      containerSnapshot(),
      containerSnapshot({ name: 'sidecar', metadataId: 'md-side', dockerId: 'd51de' }),
      containerSnapshot({
        name: 'never',
        metadataId: 'md-never',
        dockerId: undefined,
        knownStatus: 'PENDING',
      }),
    ],
  });
  const view = new FakeTaskView([task]);
  const handler = createLogsHandler(view, log);
  const sent: Sent[] = [];
  let ended: () => void = () => undefined;
  const done = new Promise<void>((r) => (ended = r));
  const send = (m: Sent) => {
    sent.push(m);
    if (m.type === 'logs-end') ended();
  };
  const open = (extra: Partial<LogsOpenMessage> = {}) =>
    handler.open(
      { type: 'logs-open', streamId: 's1', taskArn: task.task.taskArn, follow: false, ...extra },
      send,
    );
  return { task, view, handler, sent, done, open, send };
}

/** The text each container sent, in order. */
function textBy(sent: Sent[]): Record<string, string> {
  const r: Record<string, string> = {};
  for (const m of sent) if (m.type === 'logs-data') r[m.containerName] = (r[m.containerName] ?? '') + m.data;
  return r;
}

const within = <T>(p: Promise<T>, ms = 2_000): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`not done within ${ms} ms`)), ms)),
  ]);

describe('logs handler', () => {
  it("streams every created container's output, then one logs-end", async () => {
    const s = setup();
    s.view.logs_.set('d0c0e1d', { lines: [out('hello'), out('world')] });
    s.view.logs_.set('d51de', { lines: [err('side says hi')] });
    s.open();
    await within(s.done);
    assert.deepEqual(textBy(s.sent), { web: 'hello\nworld\n', sidecar: 'side says hi\n' });
    assert.deepEqual(s.sent.at(-1), { type: 'logs-end', streamId: 's1' });
    assert.equal(s.sent.filter((m) => m.type === 'logs-end').length, 1);
    assert.deepEqual(
      s.view.logCalls.map((c) => c.dockerId).sort(),
      ['d0c0e1d', 'd51de'],
      'the container that was never created is not read',
    );
    const side = s.sent.find(
      (m): m is LogsDataMessage => m.type === 'logs-data' && m.containerName === 'sidecar',
    );
    assert.equal(side?.stream, 'stderr');
  });

  it('batches lines into chunks that keep order and never mix stdout with stderr', async () => {
    const s = setup();
    const lines = [out('a1'), out('a2'), err('e1'), out('a3'), out('a4')];
    s.view.logs_.set('d0c0e1d', { lines });
    s.open({ containerName: 'web' });
    await within(s.done);
    const data = s.sent.filter((m): m is LogsDataMessage => m.type === 'logs-data');
    assert.deepEqual(
      data.map((m) => [m.stream, m.data]),
      [
        ['stdout', 'a1\na2\n'],
        ['stderr', 'e1\n'],
        ['stdout', 'a3\na4\n'],
      ],
    );
  });

  it('splits a long log into chunks of at most MAX_CHUNK_BYTES', async () => {
    const s = setup();
    const line = 'x'.repeat(999);
    const lines = Array.from({ length: 200 }, () => out(line));
    s.view.logs_.set('d0c0e1d', { lines });
    s.open({ containerName: 'web' });
    await within(s.done);
    const data = s.sent.filter((m): m is LogsDataMessage => m.type === 'logs-data');
    assert.ok(data.length > 1, 'more than one chunk');
    assert.ok(data.length < 20, `batched, not one message per line (${data.length})`);
    for (const m of data) assert.ok(Buffer.byteLength(m.data) <= MAX_CHUNK_BYTES);
    assert.equal(data.map((m) => m.data).join(''), `${line}\n`.repeat(200));
  });

  it('passes follow and tail to the engine', async () => {
    const s = setup();
    s.view.logs_.set('d0c0e1d', { lines: [out('1'), out('2'), out('3')] });
    s.open({ containerName: 'web', tail: 2 });
    await within(s.done);
    assert.deepEqual(s.view.logCalls, [{ dockerId: 'd0c0e1d', options: { follow: false, tail: 2 } }]);
    assert.deepEqual(textBy(s.sent), { web: '2\n3\n' });
  });

  it('ends with an error for an unknown task, a cleaned-up one, an unknown container or one not created yet', () => {
    const s = setup();
    s.handler.open({ type: 'logs-open', streamId: 'a', taskArn: 'arn:nope', follow: false }, s.send);
    s.open({ streamId: 'b', containerName: 'ghost' });
    s.open({ streamId: 'c', containerName: 'never' });
    s.view.cleanedUp.set('arn:gone', Date.UTC(2026, 0, 2, 3, 4, 5));
    s.handler.open({ type: 'logs-open', streamId: 'd', taskArn: 'arn:gone', follow: false }, s.send);
    assert.deepEqual(s.sent.splice(3), [
      {
        type: 'logs-end',
        streamId: 'd',
        error:
          "task arn:gone was cleaned up at 2026-01-02T03:04:05.000Z: the agent removes a stopped task's containers, and their output with them, after the clean-up wait (BERTH_AGENT_TASK_CLEANUP_WAIT_MS, 10 minutes unless set)",
      },
    ]);
    assert.deepEqual(s.sent, [
      { type: 'logs-end', streamId: 'a', error: 'task arn:nope is not known to the agent on this host' },
      { type: 'logs-end', streamId: 'b', error: `task ${s.task.task.taskArn} has no container named ghost` },
      {
        type: 'logs-end',
        streamId: 'c',
        error: `container never of task ${s.task.task.taskArn} has not been created, so it has no output yet`,
      },
    ]);
    assert.equal(s.view.logCalls.length, 0);
  });

  it('ends with the error when the engine drops a stream, after what was read', async () => {
    const s = setup();
    s.view.logs_.set('d0c0e1d', { lines: [out('before')], error: 'engine went away' });
    s.open({ containerName: 'web' });
    await within(s.done);
    assert.deepEqual(textBy(s.sent), { web: 'before\n' });
    assert.deepEqual(s.sent.at(-1), {
      type: 'logs-end',
      streamId: 's1',
      error: 'container web: engine went away',
    });
  });

  it('follows until closed, then closes the engine streams and sends nothing more', async () => {
    const s = setup();
    s.view.logs_.set('d0c0e1d', { lines: [out('live')], holdOpen: true });
    s.view.logs_.set('d51de', { lines: [], holdOpen: true });
    s.open({ follow: true });
    const deadline = Date.now() + 2_000;
    while (!s.sent.some((m) => m.type === 'logs-data') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(textBy(s.sent), { web: 'live\n' }, 'followed output arrives without the stream ending');
    assert.equal(
      s.sent.some((m) => m.type === 'logs-end'),
      false,
    );
    s.handler.close('s1');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(s.view.closedLogs.sort(), ['d0c0e1d', 'd51de']);
    assert.equal(
      s.sent.some((m) => m.type === 'logs-end'),
      false,
      'no logs-end after logs-close',
    );
  });

  it('closeAll stops every stream', async () => {
    const s = setup();
    s.view.logs_.set('d0c0e1d', { lines: [], holdOpen: true });
    s.open({ streamId: 'x', containerName: 'web', follow: true });
    s.open({ streamId: 'y', containerName: 'web', follow: true });
    await new Promise((r) => setTimeout(r, 20));
    s.handler.closeAll();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(s.view.closedLogs.length, 2);
    assert.equal(s.sent.length, 0);
  });
});
