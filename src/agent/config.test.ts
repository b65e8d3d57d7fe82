import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/server-config.js';
import { parseAgentConfig, parseAttributeList } from './config.js';

describe('parseAgentConfig', () => {
  it('fills every default from the endpoint alone', () => {
    const c = parseAgentConfig({ endpoint: 'http://127.0.0.1:7345' }, {});
    assert.equal(c.cluster, 'default');
    assert.equal(c.dataDir, join(homedir(), '.berth', 'agent'));
    assert.equal(c.region, 'us-east-1');
    assert.equal(c.availabilityZone, 'us-east-1a');
    assert.equal(c.reservedMemoryMiB, 256);
    assert.equal(c.instanceType, 'berth.local');
    assert.equal(c.managedCapacity, false);
    assert.equal(c.taskSubnetCidr, '198.19.0.0/24');
    assert.equal(c.taskNetworkName, 'berth-task-net');
    assert.equal(c.metadataListen, '169.254.170.2:80');
    assert.equal(c.imagePullPolicy, 'if-not-present');
    assert.equal(c.taskCleanupWaitMs, 600_000);
    assert.equal(c.reconnectMinMs, 500);
    assert.equal(c.reconnectMaxMs, 30_000);
    assert.deepEqual(c.attributes, {});
  });

  it('takes flags over environment variables', () => {
    const c = parseAgentConfig(
      { endpoint: 'http://a:1', cluster: 'flag' },
      {
        BERTH_AGENT_CLUSTER: 'env',
        BERTH_AGENT_REGION: 'eu-west-1',
        BERTH_AGENT_MANAGED_CAPACITY: 'true',
        BERTH_AGENT_ATTRIBUTES: 'stack=blue, tier=a=b',
      },
    );
    assert.equal(c.cluster, 'flag');
    assert.equal(c.region, 'eu-west-1');
    assert.equal(c.availabilityZone, 'eu-west-1a');
    assert.equal(c.managedCapacity, true);
    assert.deepEqual(c.attributes, { stack: 'blue', tier: 'a=b' });
  });

  it('names the option and its variable when a value is bad or missing', () => {
    const bad = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv, re: RegExp) =>
      assert.throws(
        () => parseAgentConfig(flags, env),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
      );
    bad({}, {}, /invalid option endpoint \(--endpoint \/ BERTH_AGENT_ENDPOINT\): is required/);
    bad({ endpoint: 'ftp://x' }, {}, /endpoint.*http/);
    bad({ endpoint: 'http://x', taskSubnetCidr: '10.0.0.0/8' }, {}, /taskSubnetCidr.*\/16 and \/29/);
    bad(
      { endpoint: 'http://x' },
      { BERTH_AGENT_IMAGE_PULL_POLICY: 'sometimes' },
      /imagePullPolicy.*BERTH_AGENT_IMAGE_PULL_POLICY/,
    );
    bad({ endpoint: 'http://x' }, { BERTH_AGENT_MANAGED_CAPACITY: 'maybe' }, /managedCapacity/);
    bad({ endpoint: 'http://x', reconnectMinMs: 1000, reconnectMaxMs: 500 }, {}, /reconnectMaxMs/);
    bad({ endpoint: 'http://x', metadataListen: 'nope' }, {}, /metadataListen.*host:port/);
    bad({ endpoint: 'http://x', attributes: { 'bad name!': 'v' } }, {}, /attributes/);
  });

  it('parses attribute lists', () => {
    assert.deepEqual(parseAttributeList('a=1,,b=2'), { a: '1', b: '2' });
    assert.throws(() => parseAttributeList('novalue'), /name=value/);
  });
});
