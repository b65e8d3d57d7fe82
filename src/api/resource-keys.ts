// Where a taggable resource lives in the store, from its ARN (TagResource, UntagResource,
// ListTagsForResource). Pure: it only parses; whether the record exists is the caller's question.
//
//   cluster/<name>                         keys.cluster
//   task-definition/<family>:<revision>    keys.taskDefinition
//   capacity-provider/<name>               keys.capacityProvider
//   container-instance/<cluster>/<id>      keys.containerInstance
//   task/<cluster>/<id>                    keys.task
//   service/<cluster>/<name>               keys.service
//   task-set/<cluster>/<service>/<id>      keys.service (task sets live inside their service record;
//                                          ids look like `ecs-svc/1234567890123456789`)
//
// Everything else is an InvalidParameterException: not an ARN, not `ecs`, another account or
// region, a type that cannot be tagged (e.g. `container/...`), or the old short ARN form of a
// cluster-scoped resource (`service/<name>`, `task/<id>`, `container-instance/<id>`): ECS tags only
// long-format ARNs ("If you try to tag a service with a short ARN, you receive an
// InvalidParameterException"), and the short form does not say which cluster to look in.
import { parseArn, type Scope } from '../domain/arn.js';
import { invalidParameter } from '../domain/errors.js';
import { keys } from '../store/keys.js';

export type TaggableKind =
  | 'cluster'
  | 'task-definition'
  | 'capacity-provider'
  | 'container-instance'
  | 'task'
  | 'service'
  | 'task-set';

export interface ResourceKey {
  kind: TaggableKind;
  /** Store key of the record that holds the resource's tags. */
  key: string;
  /** Short name of the cluster the resource belongs to (cluster-scoped kinds and clusters). */
  cluster?: string;
  /** Task sets only: the task set's id inside the service record at `key`. */
  taskSetId?: string;
}

/** One path segment of a resource: no separators, nothing empty. */
const SEGMENT = /^[A-Za-z0-9_.\-]+$/;

function invalidArn(arn: string, why: string): Error {
  return invalidParameter(`resourceArn '${arn}' is not valid: ${why}`);
}

function segments(arn: string, parts: readonly string[], expected: number, form: string): string[] {
  if (parts.length !== expected) {
    throw invalidArn(arn, `expected the form ${form}.`);
  }
  for (const p of parts) {
    if (!SEGMENT.test(p)) throw invalidArn(arn, `'${p}' is not a valid name or id.`);
  }
  return [...parts];
}

export function resolveResourceKey(scope: Scope, arn: string): ResourceKey {
  const p = parseArn(arn);
  if (!p)
    throw invalidArn(
      arn,
      'expected an Amazon ECS ARN such as arn:aws:ecs:<region>:<account>:cluster/<name>.',
    );
  if (p.service !== 'ecs') throw invalidArn(arn, `service '${p.service}' is not ecs.`);
  if (p.region !== scope.region || p.account !== scope.account) {
    throw invalidArn(
      arn,
      `it names region '${p.region}' and account '${p.account}'; this endpoint serves region '${scope.region}' of account '${scope.account}'.`,
    );
  }
  const shortForm = (type: string): Error =>
    invalidArn(
      arn,
      `the short ARN format ${type}/<id> cannot be tagged; use the long format ${type}/<cluster>/<id>.`,
    );

  switch (p.resourceType) {
    case 'cluster': {
      const [name] = segments(arn, p.parts, 1, 'cluster/<name>');
      return { kind: 'cluster', key: keys.cluster(scope, name!), cluster: name! };
    }
    case 'capacity-provider': {
      const [name] = segments(arn, p.parts, 1, 'capacity-provider/<name>');
      return { kind: 'capacity-provider', key: keys.capacityProvider(scope, name!) };
    }
    case 'task-definition': {
      const m = p.parts.length === 1 ? /^([A-Za-z0-9_-]{1,255}):([1-9][0-9]{0,9})$/.exec(p.parts[0]!) : null;
      if (!m) throw invalidArn(arn, 'expected the form task-definition/<family>:<revision>.');
      return { kind: 'task-definition', key: keys.taskDefinition(scope, m[1]!, Number(m[2])) };
    }
    case 'container-instance':
    case 'task':
    case 'service': {
      if (p.parts.length === 1) throw shortForm(p.resourceType);
      const [cluster, id] = segments(arn, p.parts, 2, `${p.resourceType}/<cluster>/<id>`);
      const key =
        p.resourceType === 'container-instance'
          ? keys.containerInstance(scope, cluster!, id!)
          : p.resourceType === 'task'
            ? keys.task(scope, cluster!, id!)
            : keys.service(scope, cluster!, id!);
      return { kind: p.resourceType, key, cluster: cluster! };
    }
    case 'task-set': {
      // ECS task set ids contain a slash (`ecs-svc/1234567890123456789`), so the ARN has 4 parts.
      const form = 'task-set/<cluster>/<service>/<id>';
      const [cluster, service, ...id] = segments(arn, p.parts, p.parts.length === 4 ? 4 : 3, form);
      return {
        kind: 'task-set',
        key: keys.service(scope, cluster!, service!),
        cluster: cluster!,
        taskSetId: id.join('/'),
      };
    }
    default:
      throw invalidArn(
        arn,
        `resources of type '${p.resourceType}' cannot be tagged; taggable are clusters, task definitions, ` +
          'capacity providers, container instances, tasks, services and task sets.',
      );
  }
}
