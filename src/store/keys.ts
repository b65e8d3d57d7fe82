// The key layout of the store. Every record of an account and region lives under
// `/<account>/<region>/`; one prefix per kind keeps List* calls to a single range scan.
// Revision numbers are zero-padded so that key order is numeric order.
import type { Scope } from '../domain/arn.js';

const base = (s: Scope): string => `/${s.account}/${s.region}`;

export const keys = {
  cluster: (s: Scope, name: string) => `${base(s)}/clusters/${name}`,
  clusters: (s: Scope) => `${base(s)}/clusters/`,

  taskDefinition: (s: Scope, family: string, revision: number) =>
    `${base(s)}/task-definitions/${family}/${String(revision).padStart(10, '0')}`,
  taskDefinitionsOfFamily: (s: Scope, family: string) => `${base(s)}/task-definitions/${family}/`,
  taskDefinitions: (s: Scope) => `${base(s)}/task-definitions/`,
  /** Per family: the last revision number handed out (revisions are never reused). */
  taskDefinitionFamily: (s: Scope, family: string) => `${base(s)}/task-definition-families/${family}`,
  taskDefinitionFamilies: (s: Scope) => `${base(s)}/task-definition-families/`,

  capacityProvider: (s: Scope, name: string) => `${base(s)}/capacity-providers/${name}`,
  capacityProviders: (s: Scope) => `${base(s)}/capacity-providers/`,

  containerInstance: (s: Scope, cluster: string, id: string) =>
    `${base(s)}/container-instances/${cluster}/${id}`,
  containerInstancesOfCluster: (s: Scope, cluster: string) => `${base(s)}/container-instances/${cluster}/`,

  task: (s: Scope, cluster: string, id: string) => `${base(s)}/tasks/${cluster}/${id}`,
  tasksOfCluster: (s: Scope, cluster: string) => `${base(s)}/tasks/${cluster}/`,

  service: (s: Scope, cluster: string, name: string) => `${base(s)}/services/${cluster}/${name}`,
  servicesOfCluster: (s: Scope, cluster: string) => `${base(s)}/services/${cluster}/`,

  /** principal is an IAM ARN, or '~default' for the account default. */
  accountSetting: (s: Scope, principal: string, name: string) =>
    `${base(s)}/account-settings/${encodeURIComponent(principal)}/${name}`,
  accountSettingsOf: (s: Scope, principal: string) =>
    `${base(s)}/account-settings/${encodeURIComponent(principal)}/`,
  accountSettings: (s: Scope) => `${base(s)}/account-settings/`,

  /** Hosts serving as managed (FARGATE) capacity; global, not per account or region. */
  managedHost: (hostId: string) => `/_global/managed-hosts/${hostId}`,
  managedHosts: () => `/_global/managed-hosts/`,

  /** Idempotency records (clientToken → result), per operation. */
  idempotency: (s: Scope, operation: string, token: string) => `${base(s)}/idempotency/${operation}/${token}`,

  // A service's deployment history and revisions live beside the services, not under
  // keys.service(...)/: servicesOfCluster must keep listing services only.
  serviceDeployment: (s: Scope, cluster: string, service: string, id: string) =>
    `${base(s)}/service-deployments/${cluster}/${service}/${id}`,
  serviceDeploymentsOfService: (s: Scope, cluster: string, service: string) =>
    `${base(s)}/service-deployments/${cluster}/${service}/`,
  serviceRevision: (s: Scope, cluster: string, service: string, id: string) =>
    `${base(s)}/service-revisions/${cluster}/${service}/${id}`,
};
