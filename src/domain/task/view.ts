// The wire view of a stored task: the record minus Berth's bookkeeping (`berth`), with tags only
// when asked for (DescribeTasks include TAGS) or when the answer creates the task.
import type { Task } from '../../generated/ecs/types.js';
import type { TaskRecord } from '../records.js';

export function toTaskView(record: TaskRecord, includeTags = false): Task {
  const { berth: _berth, tags, ...wire } = record;
  return includeTags ? { ...wire, tags: tags ?? [] } : { ...wire };
}
