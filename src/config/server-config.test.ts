import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
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
});
