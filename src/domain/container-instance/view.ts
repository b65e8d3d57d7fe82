// The wire view of a stored container instance: Describe*, Register, Deregister and
// UpdateContainerInstancesState answer with it. Tags and health appear only when asked for
// (DescribeContainerInstances `include`), as in ECS; the record's internal `cluster` and `berth` never do.
import type { ContainerInstance, ContainerInstanceField } from '../../generated/ecs/types.js';
import type { ContainerInstanceRecord } from '../records.js';

export function toContainerInstanceView(
  record: ContainerInstanceRecord,
  include: readonly ContainerInstanceField[] = [],
): ContainerInstance {
  const { cluster: _cluster, berth: _berth, tags, healthStatus, ...wire } = record;
  const view: ContainerInstance = { ...wire };
  if (include.includes('TAGS')) view.tags = tags;
  if (include.includes('CONTAINER_INSTANCE_HEALTH')) {
    // Health is reported by the agent; until it has reported, ECS shows INSUFFICIENT_DATA.
    view.healthStatus = healthStatus ?? { overallStatus: 'INSUFFICIENT_DATA', details: [] };
  }
  return view;
}
