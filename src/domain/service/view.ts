// The wire views of stored services, task sets, history entries and revisions: the records minus
// Berth's bookkeeping (`berth`), with tags only when asked for (include TAGS) or when the answer
// creates the resource.
import type {
  Service,
  ServiceDeployment,
  ServiceDeploymentBrief,
  ServiceRevision,
  TaskSet,
} from '../../generated/ecs/types.js';
import type { ServiceDeploymentRecord, ServiceRecord, ServiceRevisionRecord } from '../records.js';

export function toTaskSetView(ts: TaskSet, includeTags: boolean): TaskSet {
  const { tags, ...rest } = ts;
  return includeTags ? { ...structuredClone(rest), tags: tags ?? [] } : structuredClone(rest);
}

export function toServiceView(record: ServiceRecord, includeTags = false): Service {
  const { berth: _berth, tags, taskSets, ...wire } = record;
  const out: Service = structuredClone(wire);
  if (taskSets !== undefined) out.taskSets = taskSets.map((ts) => toTaskSetView(ts, includeTags));
  if (includeTags) out.tags = tags ?? [];
  return out;
}

/**
 * A history entry as DescribeServiceDeployments answers it. While its deployment still runs in
 * the service, the task counts come from the service record (the history entry is only written
 * when the deployment changes state).
 */
export function toServiceDeploymentView(
  rec: ServiceDeploymentRecord,
  service?: ServiceRecord,
): ServiceDeployment {
  const { berth, ...wire } = rec;
  const out: ServiceDeployment = structuredClone(wire);
  const live = service?.deployments?.find((d) => d.id === berth.deploymentId);
  if (live && out.targetServiceRevision) {
    out.targetServiceRevision = {
      ...out.targetServiceRevision,
      requestedTaskCount: live.desiredCount ?? 0,
      runningTaskCount: live.runningCount ?? 0,
      pendingTaskCount: live.pendingCount ?? 0,
    };
  }
  if (live && out.deploymentCircuitBreaker && out.deploymentCircuitBreaker.status === 'MONITORING') {
    out.deploymentCircuitBreaker = { ...out.deploymentCircuitBreaker, failureCount: live.failedTasks ?? 0 };
  }
  return out;
}

export function toServiceDeploymentBrief(rec: ServiceDeploymentRecord): ServiceDeploymentBrief {
  return {
    serviceDeploymentArn: rec.serviceDeploymentArn,
    serviceArn: rec.serviceArn,
    clusterArn: rec.clusterArn,
    ...(rec.startedAt !== undefined ? { startedAt: rec.startedAt } : {}),
    ...(rec.createdAt !== undefined ? { createdAt: rec.createdAt } : {}),
    ...(rec.finishedAt !== undefined ? { finishedAt: rec.finishedAt } : {}),
    ...(rec.targetServiceRevision?.arn !== undefined
      ? { targetServiceRevisionArn: rec.targetServiceRevision.arn }
      : {}),
    ...(rec.status !== undefined ? { status: rec.status } : {}),
    ...(rec.statusReason !== undefined ? { statusReason: rec.statusReason } : {}),
  };
}

export function toServiceRevisionView(rec: ServiceRevisionRecord): ServiceRevision {
  return structuredClone(rec);
}
