import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canStop, createReadiness, dependentsOf, linkTargets, startReadiness } from './dependencies.js';
import { agentTask, c, stateOf } from './test-support.js';

describe('dependencies', () => {
  const task = agentTask([
    c('app', {
      dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }],
      links: ['cache:kv'],
      volumesFrom: [{ sourceContainer: 'data' }],
    }),
    c('db', { healthCheck: { command: ['CMD', 'true'] } }),
    c('cache'),
    c('data', { essential: false }),
  ]);

  it('parses links with and without an alias', () => {
    assert.deepEqual(linkTargets(c('x', { links: ['a', 'b:bee'] })), [
      { name: 'a', alias: 'a' },
      { name: 'b', alias: 'bee' },
    ]);
  });

  it('create waits for volumesFrom and link targets to exist, and fails when one never will', () => {
    assert.deepEqual(
      createReadiness(stateOf(task, { data: { known: 'PULLED' }, cache: { known: 'CREATED' } }), 'app'),
      { ready: false },
    );
    assert.deepEqual(
      createReadiness(stateOf(task, { data: { known: 'CREATED' }, cache: { known: 'RUNNING' } }), 'app'),
      { ready: true },
    );
    const r = createReadiness(
      stateOf(task, { data: { known: 'STOPPED', reason: 'CannotPullContainerError: x' } }),
      'app',
    );
    assert.equal(r.ready, false);
    assert.match(
      (r as { impossible?: string }).impossible ?? '',
      /data.*stopped before starting \(CannotPullContainerError: x\)/,
    );
  });

  it('start waits for dependsOn and for linked containers to run', () => {
    const healthyDb = { known: 'RUNNING' as const, startedAt: 1, health: { status: 'HEALTHY' as const } };
    assert.deepEqual(startReadiness(stateOf(task, { db: healthyDb, cache: { known: 'CREATED' } }), 'app'), {
      ready: false,
    });
    assert.deepEqual(startReadiness(stateOf(task, { db: healthyDb, cache: { known: 'RUNNING' } }), 'app'), {
      ready: true,
    });
    const dead = startReadiness(
      stateOf(task, { db: healthyDb, cache: { known: 'STOPPED', startedAt: 1, exitCode: 0 } }),
      'app',
    );
    assert.match((dead as { impossible?: string }).impossible ?? '', /link to 'cache'/);
    const sick = startReadiness(
      stateOf(task, { db: { known: 'STOPPED', startedAt: 1, exitCode: 1 } }),
      'app',
    );
    assert.match((sick as { impossible?: string }).impossible ?? '', /'db' \(HEALTHY\) cannot be met/);
  });

  it('stop waits for the containers that need it', () => {
    assert.deepEqual(dependentsOf(stateOf(task), 'db'), ['app']);
    assert.deepEqual(dependentsOf(stateOf(task), 'cache'), ['app']);
    assert.deepEqual(dependentsOf(stateOf(task), 'data'), []);
    assert.equal(canStop(stateOf(task, { app: { known: 'RUNNING' } }), 'db'), false);
    assert.equal(canStop(stateOf(task, { app: { known: 'STOPPED' } }), 'db'), true);
    assert.equal(canStop(stateOf(task, { app: { known: 'RUNNING' } }), 'app'), true);
  });
});
