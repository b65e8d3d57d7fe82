// `berth agent` configuration: one schema, parsed at start-up. Flags win over environment
// variables (BERTH_AGENT_*), which win over the defaults. Bad values fail at once with a
// ConfigError naming the option and its variable. Durations are milliseconds.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config/server-config.js';
import { HEARTBEAT_TIMEOUT_MS } from '../domain/agent-protocol.js';
import { parseCidr } from './network/ipam.js';

const ATTRIBUTE_NAME = /^[A-Za-z0-9_./-]{1,128}$/;
const LISTEN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const listenAddress = z.string().regex(LISTEN, 'must be host:port, e.g. 169.254.170.2:80');

export const agentConfigSchema = z
  .object({
    /** Base URL of the control plane (`berth server`), e.g. http://127.0.0.1:7345. */
    endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    /** Cluster this host registers in. `default` is created when missing, as the ECS agent does. */
    cluster: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be 1-255 letters, digits, - or _')
      .default('default'),
    /** Where the agent keeps its state (host id, registrations, tasks, unacknowledged reports). */
    dataDir: z
      .string()
      .min(1)
      .default(join(homedir(), '.berth', 'agent')),
    /** Region of the control plane's API calls (the SigV4 credential scope carries it). */
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, 'must look like us-east-1')
      .default('us-east-1'),
    /** Memory kept back for the host itself: registered MEMORY = host MiB − this. */
    reservedMemoryMiB: z.coerce.number().int().min(0).default(256),
    /** `ecs.availability-zone`; default `<region>a`. */
    availabilityZone: z.string().min(1).max(64).optional(),
    /** `ecs.instance-type`. */
    instanceType: z.string().min(1).max(64).default('berth.local'),
    /** Custom attributes registered with the instance (name → value). */
    attributes: z
      .record(
        z.string().regex(ATTRIBUTE_NAME, 'attribute names are 1-128 of [A-Za-z0-9_./-]'),
        z.string().max(128),
      )
      .default({}),
    /** Also serve as managed (FARGATE) capacity. */
    managedCapacity: z.boolean().default(false),
    /** Address range of this host's awsvpc task network (one per host: hosts must not overlap). */
    taskSubnetCidr: z
      .string()
      .refine(
        (s) => safeCidr(s) !== undefined,
        'must be an IPv4 CIDR between /16 and /29, e.g. 198.19.0.0/24',
      )
      .default('198.19.0.0/24'),
    /** Docker network that carries awsvpc task interfaces. */
    taskNetworkName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be a Docker network name')
      .default('berth-task-net'),
    /**
     * Who gives awsvpc pause containers their interface: the agent itself (fast; needs root, `ip`
     * and `nsenter`), Docker's network attachment, or `auto` (the agent when it can).
     */
    awsvpcPlumbing: z.enum(['auto', 'agent', 'docker']).default('auto'),
    /** Docker engine socket. */
    dockerSocket: z.string().min(1).default('/var/run/docker.sock'),
    /** Task metadata endpoint address (ECS: 169.254.170.2:80); the metadata server falls back when it cannot bind it. */
    metadataListen: listenAddress.default('169.254.170.2:80'),
    /** When to contact a registry: this host usually has no internet, so local images win by default. */
    imagePullPolicy: z
      .enum(['always', 'if-not-present', 'never', 'remote-or-cached'])
      .default('if-not-present'),
    /** How long stopped tasks' containers stay on the host (for logs and inspection) before removal. */
    taskCleanupWaitMs: z.coerce
      .number()
      .int()
      .min(0)
      .default(10 * 60_000),
    /** How long a container may wait for its dependsOn conditions when it sets no startTimeout (ECS: 3 min). */
    containerStartTimeoutMs: z.coerce
      .number()
      .int()
      .min(1000)
      .default(3 * 60_000),
    /** A session that hears nothing (not even a ping) for this long is dropped and reopened. */
    sessionTimeoutMs: z.coerce.number().int().min(100).default(HEARTBEAT_TIMEOUT_MS),
    /** First reconnect delay; doubles up to reconnectMaxMs, with jitter. */
    reconnectMinMs: z.coerce.number().int().min(10).default(500),
    reconnectMaxMs: z.coerce.number().int().min(10).default(30_000),
    /** Longest time state changes wait before they are written (reports flush at once). */
    stateFlushDelayMs: z.coerce.number().int().min(0).default(200),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((c) => c.reconnectMaxMs >= c.reconnectMinMs, {
    message: 'must be at least reconnectMinMs',
    path: ['reconnectMaxMs'],
  });

type ParsedConfig = z.infer<typeof agentConfigSchema>;

/** The compiled configuration: every field present. */
export type AgentConfig = Omit<ParsedConfig, 'availabilityZone'> & { availabilityZone: string };

export type AgentConfigInput = Partial<Record<keyof ParsedConfig, unknown>>;

const envNames: Record<keyof ParsedConfig, string> = {
  endpoint: 'BERTH_AGENT_ENDPOINT',
  cluster: 'BERTH_AGENT_CLUSTER',
  dataDir: 'BERTH_AGENT_DATA_DIR',
  region: 'BERTH_AGENT_REGION',
  reservedMemoryMiB: 'BERTH_AGENT_RESERVED_MEMORY_MIB',
  availabilityZone: 'BERTH_AGENT_AVAILABILITY_ZONE',
  instanceType: 'BERTH_AGENT_INSTANCE_TYPE',
  attributes: 'BERTH_AGENT_ATTRIBUTES',
  managedCapacity: 'BERTH_AGENT_MANAGED_CAPACITY',
  taskSubnetCidr: 'BERTH_AGENT_TASK_SUBNET',
  taskNetworkName: 'BERTH_AGENT_TASK_NETWORK',
  awsvpcPlumbing: 'BERTH_AGENT_AWSVPC_PLUMBING',
  dockerSocket: 'BERTH_AGENT_DOCKER_SOCKET',
  metadataListen: 'BERTH_AGENT_METADATA_LISTEN',
  imagePullPolicy: 'BERTH_AGENT_IMAGE_PULL_POLICY',
  taskCleanupWaitMs: 'BERTH_AGENT_TASK_CLEANUP_WAIT_MS',
  containerStartTimeoutMs: 'BERTH_AGENT_CONTAINER_START_TIMEOUT_MS',
  sessionTimeoutMs: 'BERTH_AGENT_SESSION_TIMEOUT_MS',
  reconnectMinMs: 'BERTH_AGENT_RECONNECT_MIN_MS',
  reconnectMaxMs: 'BERTH_AGENT_RECONNECT_MAX_MS',
  stateFlushDelayMs: 'BERTH_AGENT_STATE_FLUSH_DELAY_MS',
  logLevel: 'BERTH_AGENT_LOG_LEVEL',
};

function safeCidr(s: string): ReturnType<typeof parseCidr> | undefined {
  try {
    const c = parseCidr(s);
    return c.prefix >= 16 && c.prefix <= 29 ? c : undefined;
  } catch {
    return undefined;
  }
}

/** `a=b,c=d` (environment form) → record; the value may contain `=`. */
export function parseAttributeList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',')) {
    const s = item.trim();
    if (s === '') continue;
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`invalid attribute '${s}': expected name=value`);
    out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

function parseBoolean(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  return v;
}

/** Merges flags over BERTH_AGENT_* variables and validates; throws ConfigError naming the bad option. */
export function parseAgentConfig(flags: AgentConfigInput, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const raw: Record<string, unknown> = {};
  for (const [k, envName] of Object.entries(envNames) as [keyof ParsedConfig, string][]) {
    let v = flags[k];
    if (v === undefined) {
      const e = env[envName];
      if (e !== undefined && e !== '') v = k === 'attributes' ? parseAttributeList(e) : e;
    }
    if (v === undefined) continue;
    raw[k] = k === 'managedCapacity' ? parseBoolean(v) : v;
  }
  if (typeof raw.managedCapacity === 'string') {
    throw new ConfigError(
      `invalid option managedCapacity (--managed-capacity / ${envNames.managedCapacity}): must be true or false`,
    );
  }
  const r = agentConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = String(issue?.path[0] ?? '') as keyof ParsedConfig;
    const env = envNames[key];
    const detail =
      issue?.code === 'invalid_type' && raw[key] === undefined
        ? 'is required'
        : (issue?.message ?? 'invalid');
    throw new ConfigError(`invalid option ${key}${env ? ` (--${kebab(key)} / ${env})` : ''}: ${detail}`);
  }
  const c = r.data;
  return { ...c, availabilityZone: c.availabilityZone ?? `${c.region}a` };
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`);
}
