import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseAgentConfig } from '../agent/config.js';
import { FakeRuntime } from '../agent/runtime/fake-runtime.js';
import { parseServerConfig } from '../config/server-config.js';
import { LocalStack } from './local-stack.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-local-stack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalStack with agent deps', () => {
  it('checks and uses the injected runtime instead of the Docker socket', async () => {
    const runtime = new FakeRuntime();
    const server = parseServerConfig({ port: '0', dataDir: join(dir, 'server'), logLevel: 'silent' }, {});
    const stack = new LocalStack({
      server,
      agent: parseAgentConfig(
        {
          endpoint: 'http://127.0.0.1:1',
          dataDir: join(dir, 'agent'),
          dockerSocket: join(dir, 'no-docker.sock'),
          metadataListen: '127.0.0.1:0',
          logLevel: 'silent',
        },
        {},
      ),
      log: pino({ level: 'silent' }),
      agentDeps: { runtime },
    });
    try {
      const banner = await stack.start();
      assert.equal(banner.dockerVersion, '20.10.24-fake');
      assert.ok(runtime.calls.some((c) => c.op === 'ping'));
    } finally {
      await stack.stop();
    }
  });
});
