import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskRecord } from '../domain/records.js';
import { keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { listAcrossScopes, listHostTasks, listScopes } from './store-scan.js';

const A = { account: '111111111111', region: 'us-east-1' };
const B = { account: '111111111111', region: 'us-east-10' };
const C = { account: '222222222222', region: 'eu-west-1' };
const ci = (s: typeof A, cluster: string, id: string) =>
  `arn:aws:ecs:${s.region}:${s.account}:container-instance/${cluster}/${id}`;

function task(s: typeof A, cluster: string, id: string, extra: Partial<TaskRecord>): TaskRecord {
  return {
    taskArn: `arn:aws:ecs:${s.region}:${s.account}:task/${cluster}/${id}`,
    clusterArn: `arn:aws:ecs:${s.region}:${s.account}:cluster/${cluster}`,
    tags: [],
    berth: {},
    desiredStatus: 'RUNNING',
    lastStatus: 'RUNNING',
    ...extra,
  };
}

async function seed(store: Store): Promise<void> {
  const put = (key: string, value: unknown) => store.txn([], [{ kind: 'put', key, value }]);
  await put(keys.cluster(A, 'prod'), { clusterName: 'prod' });
  await put(keys.taskDefinition(A, 'web', 1), { family: 'web' });
  await put(keys.task(A, 'prod', 't1'), task(A, 'prod', 't1', { containerInstanceArn: ci(A, 'prod', 'i1') }));
  await put(keys.task(A, 'prod', 't2'), task(A, 'prod', 't2', { containerInstanceArn: ci(A, 'prod', 'i2') }));
  await put(keys.task(A, 'prod', 't3'), task(A, 'prod', 't3', { berth: { managedHostId: 'h1' } }));
  await put(
    keys.task(B, 'default', 't4'),
    task(B, 'default', 't4', { berth: { managedHostId: 'h1' }, lastStatus: 'STOPPED' }),
  );
  await put(keys.task(C, 'other', 't5'), task(C, 'other', 't5', { berth: { managedHostId: 'h1' } }));
  await put(
    keys.task(C, 'other', 't6'),
    task(C, 'other', 't6', { containerInstanceArn: ci(C, 'other', 'i9') }),
  );
  await put(keys.containerInstance(C, 'other', 'i9'), { containerInstanceArn: ci(C, 'other', 'i9') });
  await put(keys.managedHost('h1'), { hostId: 'h1' });
  await put(keys.accountSetting(C, 'arn:aws:iam::222222222222:root', 'x'), { name: 'x' });
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const backends: [string, () => Promise<Store>][] = [
  ['memory', async () => new MemoryStore()],
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'berth-scan-'));
      dirs.push(dir);
      return openSqliteStore({ path: join(dir, 'db') });
    },
  ],
];

for (const [name, open] of backends) {
  describe(`store scans (${name})`, () => {
    it('finds every account/region without reading _global', async () => {
      const store = await open();
      await seed(store);
      assert.deepEqual(await listScopes(store), [A, B, C]);
      await store.close();
    });

    it('lists one kind across scopes', async () => {
      const store = await open();
      await seed(store);
      const tasks = await listAcrossScopes<TaskRecord>(store, 'tasks');
      assert.deepEqual(
        tasks.map((t) => t.key.split('/').pop()),
        ['t1', 't2', 't3', 't4', 't5', 't6'],
      );
      assert.equal((await listAcrossScopes(store, 'container-instances')).length, 1);
      await store.close();
    });

    it("lists a host's tasks: its instances' clusters only, or every scope for a managed host", async () => {
      const store = await open();
      await seed(store);
      const ids = (rs: { key: string }[]) => rs.map((r) => r.key.split('/').pop());
      const ec2 = { hostId: 'h9', instanceArns: new Set([ci(A, 'prod', 'i1'), ci(C, 'other', 'i9')]) };
      assert.deepEqual(ids(await listHostTasks(store, ec2, false)), ['t1', 't6']);
      const managed = { hostId: 'h1', instanceArns: new Set<string>() };
      assert.deepEqual(ids(await listHostTasks(store, managed, true)), ['t3', 't4', 't5']);
      // Without the all-scope scan a managed host's tasks are not looked for.
      assert.deepEqual(ids(await listHostTasks(store, managed, false)), []);
      await store.close();
    });

    it('an empty store has no scopes', async () => {
      const store = await open();
      assert.deepEqual(await listScopes(store), []);
      await store.close();
    });
  });
}
