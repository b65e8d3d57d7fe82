// ECS ARNs and the short-name-or-ARN references the API accepts everywhere.
//   arn:aws:ecs:<region>:<account>:cluster/<name>
//   arn:aws:ecs:<region>:<account>:task/<cluster>/<taskId>
//   arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<id>
//   arn:aws:ecs:<region>:<account>:service/<cluster>/<service>
//   arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>
//   arn:aws:ecs:<region>:<account>:capacity-provider/<name>
//   arn:aws:ecs:<region>:<account>:task-set/<cluster>/<service>/<id>
//   arn:aws:ecs:<region>:<account>:container/<cluster>/<taskId>/<uuid>

export interface Scope {
  account: string;
  region: string;
}

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** e.g. 'cluster', 'task', 'task-definition' */
  resourceType: string;
  /** Everything after `<type>/`, split on '/'. */
  parts: string[];
}

export function arn(scope: Scope, resource: string): string {
  return `arn:aws:ecs:${scope.region}:${scope.account}:${resource}`;
}

export const clusterArn = (s: Scope, name: string): string => arn(s, `cluster/${name}`);
export const taskArn = (s: Scope, cluster: string, id: string): string => arn(s, `task/${cluster}/${id}`);
export const containerInstanceArn = (s: Scope, cluster: string, id: string): string =>
  arn(s, `container-instance/${cluster}/${id}`);
export const serviceArn = (s: Scope, cluster: string, name: string): string =>
  arn(s, `service/${cluster}/${name}`);
export const taskDefinitionArn = (s: Scope, family: string, revision: number): string =>
  arn(s, `task-definition/${family}:${revision}`);
export const capacityProviderArn = (s: Scope, name: string): string => arn(s, `capacity-provider/${name}`);
export const taskSetArn = (s: Scope, cluster: string, service: string, id: string): string =>
  arn(s, `task-set/${cluster}/${service}/${id}`);
export const containerArn = (s: Scope, cluster: string, taskId: string, id: string): string =>
  arn(s, `container/${cluster}/${taskId}/${id}`);

export function isArn(ref: string): boolean {
  return ref.startsWith('arn:');
}

export function parseArn(value: string): ParsedArn | undefined {
  const m = /^arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)$/.exec(value);
  if (!m) return undefined;
  const resource = m[5]!;
  const slash = resource.indexOf('/');
  if (slash < 0) return undefined;
  return {
    partition: m[1]!,
    service: m[2]!,
    region: m[3]!,
    account: m[4]!,
    resourceType: resource.slice(0, slash),
    parts: resource.slice(slash + 1).split('/'),
  };
}

/** Short name from a cluster name or ARN; undefined when an ARN is not a cluster ARN. */
export function clusterNameFromRef(ref: string): string | undefined {
  if (!isArn(ref)) return ref;
  const p = parseArn(ref);
  if (!p || p.resourceType !== 'cluster' || p.parts.length !== 1) return undefined;
  return p.parts[0];
}

/**
 * Resolves a task / container-instance / service reference: a bare id (in the given
 * cluster) or an ARN (new format `<type>/<cluster>/<id>`, old format `<type>/<id>`).
 */
export function clusterScopedIdFromRef(
  ref: string,
  resourceType: string,
): { cluster?: string; id: string } | undefined {
  if (!isArn(ref)) return { id: ref };
  const p = parseArn(ref);
  if (!p || p.resourceType !== resourceType) return undefined;
  if (p.parts.length === 2) return { cluster: p.parts[0]!, id: p.parts[1]! };
  if (p.parts.length === 1) return { id: p.parts[0]! };
  return undefined;
}

/** `family`, `family:rev` or a task definition ARN. */
export function parseTaskDefinitionRef(ref: string): { family: string; revision?: number } | undefined {
  let body = ref;
  if (isArn(ref)) {
    const p = parseArn(ref);
    if (!p || p.resourceType !== 'task-definition' || p.parts.length !== 1) return undefined;
    body = p.parts[0]!;
  }
  const colon = body.lastIndexOf(':');
  if (colon < 0) return { family: body };
  const rev = body.slice(colon + 1);
  if (!/^[0-9]+$/.test(rev)) return undefined;
  return { family: body.slice(0, colon), revision: Number(rev) };
}
