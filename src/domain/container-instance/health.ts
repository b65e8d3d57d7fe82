// An instance's healthStatus as ECS reports it: one detail per check (Berth has the
// CONTAINER_RUNTIME check, fed by the agent's health messages), and the overall status IMPAIRED
// when any detail is.
import type { ContainerInstanceHealthStatus, InstanceHealthCheckResult } from '../../generated/ecs/types.js';

export function withRuntimeHealth(
  current: ContainerInstanceHealthStatus | undefined,
  status: 'OK' | 'IMPAIRED',
  reason: string | undefined,
  nowSeconds: number,
): ContainerInstanceHealthStatus {
  const prev = current?.details?.find((d) => d.type === 'CONTAINER_RUNTIME');
  const detail: InstanceHealthCheckResult = {
    type: 'CONTAINER_RUNTIME',
    status,
    ...(status === 'IMPAIRED' && reason ? { statusReason: reason } : {}),
    lastUpdated: nowSeconds,
    lastStatusChange: prev?.status === status ? (prev.lastStatusChange ?? nowSeconds) : nowSeconds,
  };
  const details = [...(current?.details ?? []).filter((d) => d.type !== 'CONTAINER_RUNTIME'), detail];
  return { overallStatus: details.some((d) => d.status === 'IMPAIRED') ? 'IMPAIRED' : 'OK', details };
}

/** Whether the instance's container runtime was last reported impaired. */
export function isRuntimeImpaired(health: ContainerInstanceHealthStatus | undefined): boolean {
  return health?.details?.some((d) => d.type === 'CONTAINER_RUNTIME' && d.status === 'IMPAIRED') ?? false;
}
