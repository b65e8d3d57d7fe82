// `requiresAttributes`: the container-instance capabilities a task definition needs, computed at
// registration. Placement treats them as implicit constraints (a missing one is an ATTRIBUTE
// failure), so every name here must be one ECS agents really advertise; the agent side of Berth
// must advertise the same names. Only mappings documented by ECS or visible in ECS answers are
// listed; a feature not listed requires nothing extra.
//
//   feature                                   attribute
//   networkMode awsvpc                        ecs.capability.task-eni
//   taskRoleArn                               com.amazonaws.ecs.capability.task-iam-role
//   any healthCheck                           ecs.capability.container-health-check
//   any dependsOn                             ecs.capability.container-ordering
//   logConfiguration (driver d)               com.amazonaws.ecs.capability.logging-driver.<d>
//                                             + com.amazonaws.ecs.capability.docker-remote-api.1.18
//   executionRoleArn + awslogs driver         ecs.capability.execution-role-awslogs
//   dockerLabels, ulimits                     com.amazonaws.ecs.capability.docker-remote-api.1.18
//   linuxParameters.initProcessEnabled        com.amazonaws.ecs.capability.docker-remote-api.1.25
//   repositoryCredentials                     com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager
//   secrets from SSM / Secrets Manager        ecs.capability.secrets.ssm.environment-variables /
//                                             ecs.capability.secrets.asm.environment-variables
//   environmentFiles                          ecs.capability.env-files.s3
//   firelensConfiguration (fluentbit/fluentd) ecs.capability.firelens.<type>
import type { Attribute, ContainerDefinition, NetworkMode } from '../../generated/ecs/types.js';

const DOCKER_API = 'com.amazonaws.ecs.capability.docker-remote-api.';

export interface RequiresAttributesInput {
  networkMode?: NetworkMode;
  taskRoleArn?: string;
  executionRoleArn?: string;
  containerDefinitions: readonly ContainerDefinition[];
}

function containerNeeds(c: ContainerDefinition, executionRole: boolean, add: (name: string) => void): void {
  if (c.healthCheck) add('ecs.capability.container-health-check');
  if (c.dependsOn && c.dependsOn.length > 0) add('ecs.capability.container-ordering');
  if (c.logConfiguration) {
    add(`com.amazonaws.ecs.capability.logging-driver.${c.logConfiguration.logDriver}`);
    add(`${DOCKER_API}1.18`);
    if (executionRole && c.logConfiguration.logDriver === 'awslogs')
      add('ecs.capability.execution-role-awslogs');
  }
  if (c.dockerLabels && Object.keys(c.dockerLabels).length > 0) add(`${DOCKER_API}1.18`);
  if (c.ulimits && c.ulimits.length > 0) add(`${DOCKER_API}1.18`);
  if (c.linuxParameters?.initProcessEnabled === true) add(`${DOCKER_API}1.25`);
  if (c.repositoryCredentials)
    add('com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager');
  for (const s of c.secrets ?? []) {
    // A Secrets Manager ARN names its service; anything else (a parameter name or SSM ARN) is SSM.
    add(
      s.valueFrom.includes(':secretsmanager:')
        ? 'ecs.capability.secrets.asm.environment-variables'
        : 'ecs.capability.secrets.ssm.environment-variables',
    );
  }
  if (c.environmentFiles && c.environmentFiles.length > 0) add('ecs.capability.env-files.s3');
  if (c.firelensConfiguration) add(`ecs.capability.firelens.${c.firelensConfiguration.type}`);
}

/** Attributes in first-needed order, each once, as `{name}` like ECS answers them. */
export function computeRequiresAttributes(def: RequiresAttributesInput): Attribute[] {
  const names: string[] = [];
  const add = (name: string): void => {
    if (!names.includes(name)) names.push(name);
  };
  if (def.networkMode === 'awsvpc') add('ecs.capability.task-eni');
  if (def.taskRoleArn) add('com.amazonaws.ecs.capability.task-iam-role');
  for (const c of def.containerDefinitions) containerNeeds(c, Boolean(def.executionRoleArn), add);
  return names.map((name) => ({ name }));
}
