// Unit tests for the helpers both runtimes share, and for the error contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesEventFilter, matchesLabels, normalizeImageRef, parseImageRef } from './container-runtime.js';
import {
  CannotCreateContainerError,
  CannotPullContainerError,
  CannotRemoveContainerError,
  CannotStartContainerError,
  CannotStopContainerError,
  ContainerNotFoundError,
  DockerTimeoutError,
  DockerUnavailableError,
} from './errors.js';
import { compileTimeouts, defaultDockerTimeouts } from './timeouts.js';

test('parseImageRef tells registries, tags and digests apart', () => {
  assert.deepEqual(parseImageRef('busybox'), { repository: 'busybox' });
  assert.deepEqual(parseImageRef('library/busybox:1.36'), { repository: 'library/busybox', tag: '1.36' });
  assert.deepEqual(parseImageRef('127.0.0.1:5000/team/app'), {
    repository: '127.0.0.1:5000/team/app',
    registry: '127.0.0.1:5000',
  });
  assert.deepEqual(parseImageRef('localhost/app:v1'), {
    repository: 'localhost/app',
    registry: 'localhost',
    tag: 'v1',
  });
  assert.deepEqual(parseImageRef('public.ecr.aws/x/y@sha256:abc'), {
    repository: 'public.ecr.aws/x/y',
    registry: 'public.ecr.aws',
    digest: 'sha256:abc',
  });
  assert.deepEqual(parseImageRef('team/app'), { repository: 'team/app' });
  assert.equal(normalizeImageRef('busybox'), 'busybox:latest');
  assert.equal(normalizeImageRef('127.0.0.1:5000/app'), '127.0.0.1:5000/app:latest');
  assert.equal(normalizeImageRef('app:v2'), 'app:v2');
  assert.equal(normalizeImageRef('app@sha256:abc'), 'app@sha256:abc');
});

test('label selectors: exact values and presence', () => {
  const labels = { a: '1', b: '2' };
  assert.equal(matchesLabels(labels, undefined), true);
  assert.equal(matchesLabels(labels, { a: '1' }), true);
  assert.equal(matchesLabels(labels, { a: '2' }), false);
  assert.equal(matchesLabels(labels, { b: true }), true);
  assert.equal(matchesLabels(labels, { c: true }), false);
  const ev = { type: 'container' as const, action: 'die' as const, containerId: 'x', labels, time: 0 };
  assert.equal(matchesEventFilter(ev, { actions: ['start'] }), false);
  assert.equal(matchesEventFilter(ev, { actions: ['die'], containerIds: ['x'], labels: { a: '1' } }), true);
  assert.equal(matchesEventFilter(ev, { containerIds: ['y'] }), false);
});

test('errors carry ECS names, reason text and retriability', () => {
  const pull = new CannotPullContainerError('manifest unknown', { kind: 'not-found' });
  assert.equal(pull.name, 'CannotPullContainerError');
  assert.equal(pull.reasonText, 'CannotPullContainerError: manifest unknown');
  assert.equal(pull.retriable, false);
  assert.equal(new CannotPullContainerError('connection refused').retriable, true);
  assert.equal(new CannotCreateContainerError('name in use', { kind: 'conflict' }).retriable, false);
  assert.equal(new CannotCreateContainerError('engine hiccup').retriable, true);
  assert.equal(new CannotStartContainerError('exec: not found').retriable, false);
  assert.equal(new CannotStopContainerError('busy').retriable, true);
  assert.equal(new CannotStopContainerError('gone', { kind: 'not-found' }).retriable, false);
  assert.equal(new CannotRemoveContainerError('removal in progress', { kind: 'conflict' }).retriable, true);
  assert.equal(new ContainerNotFoundError('abc').retriable, false);
  assert.equal(new ContainerNotFoundError('abc').message, 'No such container: abc');
  const t = new DockerTimeoutError('start container x', 180_000);
  assert.equal(t.reasonText, 'DockerTimeoutError: Could not start container x; timed out after waiting 3m');
  assert.equal(t.retriable, true);
  assert.equal(new DockerUnavailableError('down').kind, 'unavailable');
  assert.ok(pull instanceof Error);
});

test('timeouts: defaults are complete and overrides are checked', () => {
  const t = compileTimeouts({ startMs: 1000 });
  assert.equal(t.startMs, 1000);
  assert.equal(t.createMs, defaultDockerTimeouts.createMs);
  for (const [k, v] of Object.entries(defaultDockerTimeouts)) assert.ok(v > 0, k);
  assert.throws(() => compileTimeouts({ pingMs: 0 }), /pingMs/);
  assert.throws(() => compileTimeouts({ pingMs: Number.NaN }), /pingMs/);
});
