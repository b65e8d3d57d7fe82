import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkDocker, dockerMissingMessage } from './docker-check.js';
import { DockerUnavailableError } from '../agent/runtime/errors.js';

describe('docker check', () => {
  it('reports the engine version when the engine answers', async () => {
    const r = await checkDocker('/var/run/docker.sock', {
      ping: () => Promise.resolve(),
      version: () => Promise.resolve({ version: '24.0.7', apiVersion: '1.43', os: 'linux', arch: 'amd64' }),
    });
    assert.deepEqual(r, { ok: true, version: '24.0.7' });
  });

  it('reports why when it does not, without throwing', async () => {
    const r = await checkDocker('/run/nothing.sock', {
      ping: () => Promise.reject(new DockerUnavailableError('connect ENOENT /run/nothing.sock')),
      version: () => Promise.reject(new Error('unreachable')),
    });
    assert.deepEqual(r, { ok: false, reason: 'connect ENOENT /run/nothing.sock' });
  });

  it('finds no engine at a socket that does not exist', async () => {
    const r = await checkDocker('/nonexistent/berth-test/docker.sock');
    assert.equal(r.ok, false);
  });

  it('tells how to install and start an engine', () => {
    const m = dockerMissingMessage('/var/run/docker.sock', 'connect ENOENT');
    assert.match(
      m,
      /^berth up: no Docker engine answers at \/var\/run\/docker\.sock\n {2}\(connect ENOENT\)/,
    );
    assert.ok(m.includes('apt-get install -y docker.io'));
    assert.ok(m.includes('dockerd'));
    assert.ok(m.includes('--docker-socket'));
  });
});
