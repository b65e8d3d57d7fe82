// What `berth up` prints once the control plane and the local agent run: where the API is, and
// AWS CLI commands that work as they are (copy, paste, see a task run). Pure.

export interface BannerInput {
  url: string;
  region: string;
  cluster: string;
  dataDir: string;
  agentDataDir: string;
  taskSubnetCidr: string;
  dockerVersion: string;
}

/** Shell single-quoting: the examples must paste into sh/bash unchanged. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function upBanner(o: BannerInput): string {
  const aws = `aws --endpoint-url ${o.url} ecs`;
  const cluster = o.cluster === 'default' ? '' : ` --cluster ${o.cluster}`;
  const containers = JSON.stringify([
    { name: 'web', image: 'nginx', memory: 100, cpu: 99, portMappings: [{ containerPort: 80 }] },
  ]);
  return [
    '',
    'Berth is up.',
    '',
    `  ECS API endpoint   ${o.url}`,
    `  cluster            ${o.cluster} (this host runs its EC2 and FARGATE tasks)`,
    `  awsvpc task IPs    ${o.taskSubnetCidr} (reachable from this host)`,
    `  Docker engine      ${o.dockerVersion}`,
    `  data               ${o.dataDir} (agent state: ${o.agentDataDir})`,
    '',
    'Try it with the AWS CLI (any credentials work; the region picks the ARNs):',
    '',
    `  export AWS_ACCESS_KEY_ID=berth AWS_SECRET_ACCESS_KEY=berth AWS_DEFAULT_REGION=${o.region}`,
    `  ${aws} register-task-definition --family webserver \\`,
    `    --requires-compatibilities FARGATE --network-mode awsvpc --cpu 256 --memory 512 \\`,
    `    --container-definitions ${sq(containers)}`,
    `  ${aws} run-task${cluster} --launch-type FARGATE --task-definition webserver \\`,
    `    --network-configuration 'awsvpcConfiguration={subnets=[subnet-local],assignPublicIp=DISABLED}'`,
    `  ${aws} describe-tasks${cluster} --tasks <task-id>     # lastStatus, and the task IP in attachments`,
    `  berth logs <task-id>${cluster} --follow --endpoint ${o.url}`,
    `  ${aws} stop-task${cluster} --task <task-id>`,
    '',
    'Images come from your Docker engine: pulled when it can, or built locally.',
    'Ctrl-C stops Berth; running tasks keep running and are picked up by the next `berth up`.',
    '',
  ].join('\n');
}
