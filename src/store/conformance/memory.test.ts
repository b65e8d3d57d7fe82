// Runs the Store conformance suite against the in-memory reference store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../memory-store.js';
import { CompactedError } from '../store.js';
import { runStoreConformance } from './suite.js';

runStoreConformance(
  'memory',
  async () => ({ store: new MemoryStore(), cleanup: async () => undefined }),
  // MemoryStore bounds history in changes; the suite's compaction test writes one change per txn.
  {
    openWithHistory: async (revisions) => ({
      store: new MemoryStore(revisions),
      cleanup: async () => undefined,
    }),
  },
);

void describe('MemoryStore history bound', () => {
  void it('drops whole revisions, so a resumed watch never gets half a txn', async () => {
    const store = new MemoryStore(3);
    const r1 = (await store.txn([], [{ kind: 'put', key: '/x', value: 0 }])).revision;
    // Four changes at one revision against a bound of three: the whole revision goes.
    const r2 = (
      await store.txn(
        [],
        ['/a', '/b', '/c', '/d'].map((key) => ({ kind: 'put' as const, key, value: 1 })),
      )
    ).revision;
    const r3 = (await store.txn([], [{ kind: 'put', key: '/e', value: 2 }])).revision;
    const seen: string[] = [];
    const errors: Error[] = [];
    store.watch(
      '/',
      { fromRevision: r1 },
      (c) => seen.push(c.key),
      (e) => errors.push(e),
    );
    assert.deepEqual(seen, []);
    assert.ok(errors[0] instanceof CompactedError);
    const tail: string[] = [];
    store.watch('/', { fromRevision: r2 }, (c) => tail.push(`${c.key}@${c.revision}`));
    assert.deepEqual(tail, [`/e@${r3}`]);
  });
});
