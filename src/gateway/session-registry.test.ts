import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SessionRegistry } from './session-registry.js';

const s = (hostId: string, ...arns: string[]) => ({
  hostId,
  instanceArns: new Set(arns),
  name: `${hostId}:${arns.join(',')}`,
});

describe('SessionRegistry', () => {
  it('keys sessions by host and instance', () => {
    const r = new SessionRegistry<ReturnType<typeof s>>();
    const a = s('h1', 'i1', 'i2');
    assert.deepEqual(r.register(a), { replaced: undefined, released: [] });
    assert.equal(r.forHost('h1'), a);
    assert.equal(r.forInstance('i2'), a);
    assert.equal(r.forInstance('i3'), undefined);
    assert.equal(r.size, 1);
  });

  it('a newer session of the same host replaces the older and releases instances it no longer holds', () => {
    const r = new SessionRegistry<ReturnType<typeof s>>();
    const old = s('h1', 'i1', 'i2');
    const neu = s('h1', 'i2', 'i3');
    r.register(old);
    assert.deepEqual(r.register(neu), { replaced: old, released: ['i1'] });
    assert.equal(r.forInstance('i1'), undefined);
    assert.equal(r.forInstance('i2'), neu);
    assert.equal(r.isCurrent(old), false);
    assert.equal(r.isCurrent(neu), true);
  });

  it('the replaced session releases nothing when it finally closes', () => {
    const r = new SessionRegistry<ReturnType<typeof s>>();
    const old = s('h1', 'i1');
    const neu = s('h1', 'i1');
    r.register(old);
    r.register(neu);
    assert.deepEqual(r.unregister(old), { instances: [], host: false });
    assert.equal(r.forInstance('i1'), neu);
    assert.deepEqual(r.unregister(neu), { instances: ['i1'], host: true });
    assert.equal(r.forHost('h1'), undefined);
    assert.equal(r.size, 0);
  });

  it('an instance claimed by two hosts goes to the newest claim; the loser does not release it', () => {
    const r = new SessionRegistry<ReturnType<typeof s>>();
    const a = s('h1', 'i1', 'i2');
    const b = s('h2', 'i1');
    r.register(a);
    assert.deepEqual(r.register(b), { replaced: undefined, released: [] });
    assert.equal(r.forInstance('i1'), b);
    assert.deepEqual(r.unregister(a), { instances: ['i2'], host: true });
    assert.equal(r.forInstance('i1'), b);
  });

  it('registering the same session twice changes nothing', () => {
    const r = new SessionRegistry<ReturnType<typeof s>>();
    const a = s('h1', 'i1');
    r.register(a);
    assert.deepEqual(r.register(a), { replaced: undefined, released: [] });
    assert.equal(r.forInstance('i1'), a);
  });
});
