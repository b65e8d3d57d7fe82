import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PROTOCOL_VERSION } from '../domain/agent-protocol.js';
import {
  MAX_HELLO_INSTANCES,
  checkHello,
  checkLogsData,
  checkLogsEnd,
  checkReport,
  reportId,
} from './messages.js';

const hello = (over: Record<string, unknown> = {}) => ({
  type: 'hello',
  protocolVersion: PROTOCOL_VERSION,
  hostId: 'host-1',
  agentVersion: '0.1.0',
  instances: [{ containerInstanceArn: 'arn:a' }],
  ...over,
});

function reason(r: { ok: boolean; reason?: string }): string {
  assert.equal(r.ok, false);
  return r.reason ?? '';
}

describe('checkHello', () => {
  it('accepts a well-formed hello, dropping duplicate instances and unknown members', () => {
    const r = checkHello(
      hello({
        instances: [{ containerInstanceArn: 'arn:a' }, { containerInstanceArn: 'arn:a', extra: 1 }],
        managed: { cpu: 4096, memory: 8000, availabilityZone: 'local-1a' },
        extra: true,
      }),
    );
    assert.deepEqual(r, {
      ok: true,
      value: {
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        hostId: 'host-1',
        agentVersion: '0.1.0',
        instances: [{ containerInstanceArn: 'arn:a' }],
        managed: { cpu: 4096, memory: 8000, availabilityZone: 'local-1a' },
      },
    });
  });
  it('names the offending member', () => {
    assert.match(reason(checkHello(hello({ protocolVersion: 99 }))), /^protocolVersion/);
    assert.match(reason(checkHello(hello({ hostId: '../etc' }))), /^hostId/);
    assert.match(reason(checkHello(hello({ hostId: '' }))), /^hostId/);
    assert.match(reason(checkHello(hello({ agentVersion: 3 }))), /^agentVersion/);
    assert.match(reason(checkHello(hello({ instances: 'x' }))), /^instances/);
    assert.match(reason(checkHello(hello({ instances: [{}] }))), /^instances\[0\]\.containerInstanceArn/);
    assert.match(
      reason(
        checkHello(
          hello({
            instances: Array.from({ length: MAX_HELLO_INSTANCES + 1 }, (_, i) => ({
              containerInstanceArn: `a${i}`,
            })),
          }),
        ),
      ),
      /at most/,
    );
    assert.match(
      reason(checkHello(hello({ managed: { cpu: 0, memory: 1, availabilityZone: 'z' } }))),
      /^managed\.cpu/,
    );
    assert.match(
      reason(checkHello(hello({ managed: { cpu: 1, memory: 1.5, availabilityZone: 'z' } }))),
      /^managed\.memory/,
    );
    assert.match(reason(checkHello(hello({ managed: { cpu: 1, memory: 1 } }))), /^managed\.availabilityZone/);
  });
});

describe('checkReport', () => {
  const report = (change: unknown) => ({ type: 'report', id: 'r1', change });
  it('accepts a report with a known status', () => {
    const r = checkReport(
      report({
        taskArn: 'arn:t',
        status: 'RUNNING',
        containers: [{ containerName: 'web', status: 'RUNNING' }],
      }),
    );
    assert.equal(r.ok, true);
  });
  it('refuses bad ids, statuses and containers', () => {
    assert.match(reason(checkReport({ type: 'report', id: '', change: {} })), /^id/);
    assert.match(reason(checkReport(report(null))), /^change:/);
    assert.match(
      reason(checkReport(report({ taskArn: 'arn:t', status: 'DONE', containers: [] }))),
      /^change\.status/,
    );
    assert.match(reason(checkReport(report({ taskArn: 'arn:t', status: 'RUNNING' }))), /^change\.containers/);
    assert.match(
      reason(checkReport(report({ taskArn: 'arn:t', status: 'RUNNING', containers: [{}] }))),
      /containerName/,
    );
    assert.match(reason(checkReport(report({ status: 'RUNNING', containers: [] }))), /^change\.taskArn/);
  });
  it('finds the id of a report whose body is bad, so it can still be acknowledged', () => {
    assert.equal(reportId({ id: 'r9', change: 'junk' }), 'r9');
    assert.equal(reportId({ id: 5 }), undefined);
  });
});

describe('logs messages', () => {
  it('checks logs-data and logs-end members', () => {
    assert.equal(checkLogsData({ streamId: 's', containerName: 'c', stream: 'stdout', data: 'x' }).ok, true);
    assert.match(
      reason(checkLogsData({ streamId: 's', containerName: 'c', stream: 'tty', data: 'x' })),
      /^stream/,
    );
    assert.match(reason(checkLogsData({ streamId: 's', containerName: 'c', stream: 'stdout' })), /^data/);
    assert.equal(checkLogsEnd({ streamId: 's' }).ok, true);
    assert.match(reason(checkLogsEnd({ streamId: 's', error: 5 })), /^error/);
  });
});
