import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  AGENT_SESSION_PATH,
  PROTOCOL_VERSION,
  type HelloMessage,
  type ServerToAgent,
} from '../../domain/agent-protocol.js';
import { SessionClient, sessionUrl } from './session-client.js';

const servers: WebSocketServer[] = [];
const clients: SessionClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop();
  for (const s of servers.splice(0)) {
    for (const ws of s.clients) ws.terminate();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A control plane stand-in: records hellos and connections, welcomes every hello. */
async function fakeGateway(port = 0, opts: { welcome?: boolean } = {}) {
  const wss = new WebSocketServer({ port, host: '127.0.0.1', path: AGENT_SESSION_PATH });
  servers.push(wss);
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const g = {
    wss,
    hellos: [] as HelloMessage[],
    sockets: [] as WebSocket[],
    messages: [] as unknown[],
    port: (wss.address() as AddressInfo).port,
  };
  wss.on('connection', (ws) => {
    g.sockets.push(ws);
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string };
      g.messages.push(m);
      if (m.type === 'hello') {
        g.hellos.push(m as HelloMessage);
        if (opts.welcome !== false)
          ws.send(
            JSON.stringify({ type: 'welcome', sessionId: `s${g.hellos.length}`, heartbeatIntervalMs: 5000 }),
          );
      }
    });
  });
  return g;
}

function client(port: number, more: { timeoutMs?: number } = {}) {
  const got: ServerToAgent[] = [];
  const ready: string[] = [];
  const c = new SessionClient({
    endpoint: `http://127.0.0.1:${port}`,
    hello: () => ({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      hostId: 'h1',
      agentVersion: 't',
      instances: [{ containerInstanceArn: 'arn:ci' }],
    }),
    onMessage: (m) => got.push(m),
    onReady: (w) => ready.push(w.sessionId),
    backoff: { minMs: 20, maxMs: 100, factor: 2, jitter: 0 },
    timeoutMs: more.timeoutMs ?? 5000,
  });
  clients.push(c);
  return { c, got, ready };
}

describe('SessionClient', () => {
  it('derives the websocket URL from the endpoint', () => {
    assert.equal(sessionUrl('http://127.0.0.1:7345'), 'ws://127.0.0.1:7345/agent/v1/session');
    assert.equal(sessionUrl('https://cp.example/base/'), 'wss://cp.example/base/agent/v1/session');
  });

  it('says hello, becomes ready at the welcome, then delivers messages and sends', async () => {
    const g = await fakeGateway();
    const { c, got, ready } = client(g.port);
    assert.equal(c.send({ type: 'logs-end', streamId: 'x' }), false, 'nothing is sent before the welcome');
    c.start();
    await waitFor('ready', () => ready.length === 1);
    assert.deepEqual(g.hellos[0]?.instances, [{ containerInstanceArn: 'arn:ci' }]);
    g.sockets[0]!.send(JSON.stringify({ type: 'tasks', full: true, tasks: [] }));
    g.sockets[0]!.send('garbage');
    await waitFor('tasks', () => got.length === 1);
    assert.equal(got[0]!.type, 'tasks');
    assert.equal(c.send({ type: 'logs-end', streamId: 'x' }), true);
    await waitFor('report received', () =>
      g.messages.some((m) => (m as { type: string }).type === 'logs-end'),
    );
  });

  it('reconnects after the control plane closes the session, with a new hello', async () => {
    const g = await fakeGateway();
    const { c, ready } = client(g.port);
    c.start();
    await waitFor('ready', () => ready.length === 1);
    g.sockets[0]!.close(4000, 'replaced');
    await waitFor('second session', () => ready.length === 2);
    assert.equal(g.hellos.length, 2);
    assert.equal(c.sessions, 2);
  });

  it('keeps trying while the control plane is down, and connects once it is up', async () => {
    const probe = await fakeGateway();
    const port = probe.port;
    probe.wss.close();
    servers.splice(servers.indexOf(probe.wss), 1);
    const { c, ready } = client(port);
    c.start();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(ready.length, 0);
    await fakeGateway(port);
    await waitFor('ready after the control plane came up', () => ready.length === 1, 5000);
  });

  it('cuts a silent session (no message, no ping) and opens another', async () => {
    const g = await fakeGateway(0, { welcome: false });
    const { c } = client(g.port, { timeoutMs: 150 });
    c.start();
    await waitFor('a second connection after the silence', () => g.hellos.length >= 2, 3000);
  });

  it('stop closes the session and stops reconnecting', async () => {
    const g = await fakeGateway();
    const { c, ready } = client(g.port);
    c.start();
    await waitFor('ready', () => ready.length === 1);
    await c.stop();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(g.hellos.length, 1);
    assert.equal(c.isReady, false);
  });
});
