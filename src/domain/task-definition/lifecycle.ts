// Task definition status transitions and the family status derived from its revisions.
//
//   ACTIVE ──Deregister──► INACTIVE ──DeleteTaskDefinitions──► DELETE_IN_PROGRESS ──► (gone)
//
// Deregistering an INACTIVE revision again changes nothing and is not an error; a revision that
// is being deleted cannot be deregistered; only INACTIVE (or already deleting) revisions can be
// deleted. Failure texts are the ones ECS returns.
import type { TaskDefinitionStatus } from '../../generated/ecs/types.js';
import { toEpochSeconds } from '../clock.js';
import { clientError } from '../errors.js';
import type { TaskDefinitionRecord } from '../records.js';

export const DELETE_FAILURE_ACTIVE =
  'The specified task definition is still in ACTIVE status. Please deregister the target and try again.';
export const DELETE_FAILURE_MISSING =
  'The specified task definition does not exist. Specify a valid account, family, revision and try again.';
export const DELETE_FAILURE_INVALID_ID =
  'The specified task definition identifier is invalid. Specify a valid name or ARN and try again.';

/** The record after DeregisterTaskDefinition; the same object when nothing changes. */
export function deregistered(td: TaskDefinitionRecord, nowMs: number): TaskDefinitionRecord {
  const status = td.status ?? 'ACTIVE';
  switch (status) {
    case 'ACTIVE':
      return { ...td, status: 'INACTIVE', deregisteredAt: toEpochSeconds(nowMs) };
    case 'INACTIVE':
      return td;
    case 'DELETE_IN_PROGRESS':
      throw clientError(
        `The task definition could not be deregistered because it is in the process of being deleted: ${td.taskDefinitionArn}.`,
      );
    default: {
      const never: never = status;
      throw new Error(`unknown task definition status ${String(never)}`);
    }
  }
}

/** The record after DeleteTaskDefinitions, or the failure reason ECS reports for it. */
export function deletionRequested(
  td: TaskDefinitionRecord,
  nowMs: number,
): { record: TaskDefinitionRecord } | { failure: string } {
  const status = td.status ?? 'ACTIVE';
  switch (status) {
    case 'ACTIVE':
      return { failure: DELETE_FAILURE_ACTIVE };
    case 'INACTIVE':
      return { record: { ...td, status: 'DELETE_IN_PROGRESS', deleteRequestedAt: toEpochSeconds(nowMs) } };
    case 'DELETE_IN_PROGRESS':
      return { record: td };
    default: {
      const never: never = status;
      throw new Error(`unknown task definition status ${String(never)}`);
    }
  }
}

/**
 * A family is ACTIVE while any revision is ACTIVE and INACTIVE while it has revisions but none
 * ACTIVE (DELETE_IN_PROGRESS ones keep the family listed); with no revisions left it is not listed.
 */
export function familyStatus(
  statuses: Iterable<TaskDefinitionStatus | undefined>,
): 'ACTIVE' | 'INACTIVE' | undefined {
  let any = false;
  for (const s of statuses) {
    if ((s ?? 'ACTIVE') === 'ACTIVE') return 'ACTIVE';
    any = true;
  }
  return any ? 'INACTIVE' : undefined;
}
