import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETENTION_INTERVAL_MS } from '../controllers/retention-controller.js';
import { DEFAULT_STOPPED_TASK_RETENTION_MS } from '../domain/task/retention.js';
import { ConfigError, DEFAULT_PORT, parseServerConfig } from './server-config.js';

describe('parseServerConfig', () => {
  it('fills every default', () => {
    const c = parseServerConfig({}, {});
    assert.equal(c.port, DEFAULT_PORT);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.accountId, '123456789012');
    assert.equal(c.defaultRegion, 'us-east-1');
  });
  it('takes flags over environment', () => {
    const c = parseServerConfig({ port: '9000' }, { BERTH_PORT: '9100', BERTH_REGION: 'eu-west-1' });
    assert.equal(c.port, 9000);
    assert.equal(c.defaultRegion, 'eu-west-1');
  });
  it('names the option and its variable when a value is bad', () => {
    assert.throws(
      () => parseServerConfig({}, { BERTH_ACCOUNT_ID: 'abc' }),
      (e: unknown) => e instanceof ConfigError && /accountId.*BERTH_ACCOUNT_ID.*12 digits/.test(e.message),
    );
    assert.throws(() => parseServerConfig({ port: '70000' }, {}), /invalid option port/);
  });
  it('keeps stopped tasks an hour and looks for expired ones every minute unless told', () => {
    const c = parseServerConfig({}, {});
    assert.equal(c.stoppedTaskRetentionMs, DEFAULT_STOPPED_TASK_RETENTION_MS);
    assert.equal(DEFAULT_STOPPED_TASK_RETENTION_MS, 3_600_000);
    assert.equal(c.retentionIntervalMs, DEFAULT_RETENTION_INTERVAL_MS);
    assert.equal(DEFAULT_RETENTION_INTERVAL_MS, 60_000);
    const t = parseServerConfig(
      {},
      { BERTH_STOPPED_TASK_RETENTION_MS: '1000', BERTH_RETENTION_INTERVAL_MS: '200' },
    );
    assert.equal(t.stoppedTaskRetentionMs, 1000);
    assert.equal(t.retentionIntervalMs, 200);
    assert.throws(
      () => parseServerConfig({}, { BERTH_STOPPED_TASK_RETENTION_MS: '10' }),
      (e: unknown) =>
        e instanceof ConfigError && /stoppedTaskRetentionMs.*BERTH_STOPPED_TASK_RETENTION_MS/.test(e.message),
    );
    assert.throws(
      () => parseServerConfig({}, { BERTH_RETENTION_INTERVAL_MS: 'often' }),
      (e: unknown) =>
        e instanceof ConfigError && /retentionIntervalMs.*BERTH_RETENTION_INTERVAL_MS/.test(e.message),
    );
  });
});
