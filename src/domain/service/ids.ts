// Identifiers of a service's deployments, history entries and revisions, derived from a random
// seed (the API's newId(), a uuid) so that building them stays pure and tests stay predictable:
//   deployment id            ecs-svc/<19 digits>            (tasks' startedBy, task set ids)
//   service deployment id    22 characters [A-Za-z0-9_-]    (service-deployment/<cluster>/<service>/<id>)
//   service revision id      19 digits                      (service-revision/<cluster>/<service>/<id>)
// and the task group of a service's tasks, service:<name>.
import { createHash } from 'node:crypto';
import { arn, type Scope } from '../arn.js';

export const DEPLOYMENT_ID_PREFIX = 'ecs-svc/';
/** A service's tasks are in task group `service:<service name>`, as on ECS. */
export const SERVICE_TASK_GROUP_PREFIX = 'service:';
const DEPLOYMENT_ID = /^ecs-svc\/[0-9]{19}$/;

function digest(seed: string, purpose: string): Buffer {
  return createHash('sha256').update(`${purpose}\n${seed}`).digest();
}

/** 19 decimal digits, never starting with 0 (ECS ids are 63-bit numbers printed in full). */
function nineteenDigits(seed: string, purpose: string): string {
  const n = digest(seed, purpose).readBigUInt64BE(0) % 9_000_000_000_000_000_000n;
  return String(n + 1_000_000_000_000_000_000n);
}

export function deploymentIdFromSeed(seed: string): string {
  return `${DEPLOYMENT_ID_PREFIX}${nineteenDigits(seed, 'deployment')}`;
}

export function isDeploymentId(id: string): boolean {
  return DEPLOYMENT_ID.test(id);
}

export function serviceDeploymentIdFromSeed(seed: string): string {
  return digest(seed, 'service-deployment').toString('base64url').slice(0, 22);
}

export function serviceRevisionIdFromSeed(seed: string): string {
  return nineteenDigits(seed, 'service-revision');
}

export const serviceDeploymentArn = (s: Scope, cluster: string, service: string, id: string): string =>
  arn(s, `service-deployment/${cluster}/${service}/${id}`);

export const serviceRevisionArn = (s: Scope, cluster: string, service: string, id: string): string =>
  arn(s, `service-revision/${cluster}/${service}/${id}`);
