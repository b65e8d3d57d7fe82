import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { LogsRequestError, logsUrl, readLogs } from './logs.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('berth logs', () => {
  let server: Server;
  let endpoint = '';
  const seen: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.searchParams.get('task') === 'missing') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            __type: 'InvalidParameterException',
            message: 'task: task missing was not found in cluster default.',
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      // Written in pieces over time, as a followed log arrives.
      res.write('web | one\n');
      setTimeout(() => {
        res.write('web | two\n');
        res.end('sidecar | three\n');
      }, 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    endpoint = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('builds the relay query from the options', () => {
    const u = new URL(
      logsUrl({
        task: 'abc',
        endpoint: 'http://h:1/',
        cluster: 'prod',
        container: 'web',
        follow: true,
        tail: 5,
        region: 'eu-west-1',
      }),
    );
    assert.equal(u.pathname, '/berth/v1/logs');
    assert.deepEqual(Object.fromEntries(u.searchParams), {
      task: 'abc',
      cluster: 'prod',
      container: 'web',
      follow: 'true',
      tail: '5',
      region: 'eu-west-1',
    });
    const plain = new URL(
      logsUrl({ task: 'arn:aws:ecs:us-east-1:1:task/c/x', endpoint: 'http://h:1', follow: false }),
    );
    assert.deepEqual(Object.fromEntries(plain.searchParams), {
      task: 'arn:aws:ecs:us-east-1:1:task/c/x',
      follow: 'false',
    });
  });

  it('prints the relayed text as it arrives, to the end', async () => {
    const out = new Sink();
    await readLogs({ task: 'abc', endpoint, follow: true }, out);
    assert.equal(out.text, 'web | one\nweb | two\nsidecar | three\n');
    assert.match(seen.at(-1) ?? '', /task=abc&follow=true/);
  });

  it("reports the control plane's refusal with its message", async () => {
    await assert.rejects(readLogs({ task: 'missing', endpoint, follow: false }, new Sink()), (e: unknown) => {
      assert.ok(e instanceof LogsRequestError);
      assert.equal(e.status, 404);
      assert.equal(e.message, 'task: task missing was not found in cluster default.');
      return true;
    });
  });

  it('says when nothing listens at the endpoint', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const a = closed.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(
      readLogs({ task: 'abc', endpoint: `http://127.0.0.1:${port}`, follow: false }, new Sink()),
      /cannot reach Berth at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
  });
});
