import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ManagedHostRecord } from '../domain/records.js';
import { computeManagedHost } from './managed-host.js';

const cap = { cpu: 4096, memory: 8192, availabilityZone: 'local-1a' };

describe('computeManagedHost', () => {
  it('creates the host connected, with remaining = registered', () => {
    assert.deepEqual(computeManagedHost(undefined, 'h1', cap, 1000), {
      hostId: 'h1',
      availabilityZone: 'local-1a',
      agentConnected: true,
      registered: { cpu: 4096, memory: 8192 },
      remaining: { cpu: 4096, memory: 8192 },
      runningTasksCount: 0,
      pendingTasksCount: 0,
      updatedAt: 1000,
    });
  });

  const reserved: ManagedHostRecord = {
    hostId: 'h1',
    availabilityZone: 'local-1a',
    agentConnected: false,
    registered: { cpu: 4096, memory: 8192 },
    remaining: { cpu: 3840, memory: 7680 },
    runningTasksCount: 1,
    pendingTasksCount: 0,
    updatedAt: 1,
  };

  it('keeps what running tasks reserved when the host reconnects', () => {
    const r = computeManagedHost(reserved, 'h1', cap, 2000);
    assert.equal(r?.agentConnected, true);
    assert.deepEqual(r?.remaining, { cpu: 3840, memory: 7680 });
    assert.equal(r?.runningTasksCount, 1);
  });

  it('moves remaining by the change in registered capacity', () => {
    const r = computeManagedHost(
      reserved,
      'h1',
      { cpu: 8192, memory: 4096, availabilityZone: 'local-1b' },
      2000,
    );
    assert.deepEqual(r?.registered, { cpu: 8192, memory: 4096 });
    assert.deepEqual(r?.remaining, { cpu: 7936, memory: 3584 });
    assert.equal(r?.availabilityZone, 'local-1b');
  });

  it('writes nothing when a connected host announces the same capacity again', () => {
    assert.equal(computeManagedHost({ ...reserved, agentConnected: true }, 'h1', cap, 3000), undefined);
  });

  it('marks a connected host disconnected when it has no session, and leaves everything else', () => {
    assert.deepEqual(computeManagedHost({ ...reserved, agentConnected: true }, 'h1', undefined, 4000), {
      ...reserved,
      agentConnected: false,
      updatedAt: 4000,
    });
    assert.equal(computeManagedHost(reserved, 'h1', undefined, 4000), undefined);
    assert.equal(computeManagedHost(undefined, 'h1', undefined, 4000), undefined);
  });
});
