import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from '../runtime/container-runtime.js';
import { claimContainers, planAdoption } from './adopt.js';
import { LABEL_CONTAINER_NAME, LABEL_METADATA_ID, LABEL_PAUSE, LABEL_TASK_ARN } from './labels.js';
import { agentTask, c, stateOf, TASK_ARN } from './test-support.js';

const summary = (id: string, labels: Record<string, string>, name = `n-${id}`): ContainerSummary => ({
  id,
  name,
  image: 'img',
  imageId: 'sha256:1',
  status: 'running',
  engineStatus: 'running',
  labels,
  createdAt: 0,
});

describe('planAdoption', () => {
  it('sorts containers into tasks the state knows and tasks it does not', () => {
    const plan = planAdoption(new Set(['t1']), [
      summary('a', { [LABEL_TASK_ARN]: 't1' }),
      summary('b', { [LABEL_TASK_ARN]: 't2' }),
      summary('c', { [LABEL_TASK_ARN]: 't1' }),
      summary('d', {}),
    ]);
    assert.deepEqual(
      [...plan.known.entries()].map(([k, v]) => [k, v.map((x) => x.id)]),
      [['t1', ['a', 'c']]],
    );
    assert.deepEqual(
      [...plan.unclaimed.entries()].map(([k, v]) => [k, v.map((x) => x.id)]),
      [['t2', ['b']]],
    );
  });
});

describe('claimContainers', () => {
  it('gives a new task state the containers found for it and asks for a resync', () => {
    const s = stateOf(
      agentTask([c('app'), c('side')], {
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['s'] },
      }),
    );
    const extra = claimContainers(s, [
      summary(
        'x1',
        { [LABEL_TASK_ARN]: TASK_ARN, [LABEL_CONTAINER_NAME]: 'app', [LABEL_METADATA_ID]: 'meta-x1' },
        'ecs-web-3-app-old',
      ),
      summary('p1', { [LABEL_TASK_ARN]: TASK_ARN, [LABEL_PAUSE]: 'true' }, 'ecs-web-3-internalecspause-old'),
      summary('dup', { [LABEL_TASK_ARN]: TASK_ARN, [LABEL_CONTAINER_NAME]: 'app' }),
      summary('gone', { [LABEL_TASK_ARN]: TASK_ARN, [LABEL_CONTAINER_NAME]: 'not-in-task' }),
    ]);
    const app = s.containers[0]!;
    assert.equal(app.dockerId, 'x1');
    assert.equal(app.dockerName, 'ecs-web-3-app-old');
    assert.equal(app.metadataId, 'meta-x1');
    assert.equal(s.containers[1]!.dockerId, undefined);
    assert.equal(s.network?.pauseDockerId, 'p1');
    assert.equal(s.network?.pauseName, 'ecs-web-3-internalecspause-old');
    assert.equal(s.needsResync, true);
    assert.deepEqual(
      extra.map((x) => x.id),
      ['dup', 'gone'],
    );
  });
});
