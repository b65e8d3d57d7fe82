// Docker labels on every container the agent creates. The ECS ones are what ECS puts there (and
// what tools filter on); the Berth ones let an agent find its own containers again after a
// restart, also when several agents share one engine.
export const LABEL_CLUSTER = 'com.amazonaws.ecs.cluster';
export const LABEL_TASK_ARN = 'com.amazonaws.ecs.task-arn';
export const LABEL_CONTAINER_NAME = 'com.amazonaws.ecs.container-name';
export const LABEL_FAMILY = 'com.amazonaws.ecs.task-definition-family';
export const LABEL_REVISION = 'com.amazonaws.ecs.task-definition-version';
/** The agent (host id) that owns the container. */
export const LABEL_HOST_ID = 'org.berth.host-id';
/** The container's id in the task metadata endpoint's URIs. */
export const LABEL_METADATA_ID = 'org.berth.metadata-id';
/** Marks an awsvpc task's pause container. */
export const LABEL_PAUSE = 'org.berth.pause';
