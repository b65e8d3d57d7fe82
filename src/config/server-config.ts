// `berth server` configuration: one schema, parsed at start-up. Flags win over environment
// variables (BERTH_*), which win over the defaults. Bad values fail at once, naming the option.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_RETENTION_INTERVAL_MS } from '../controllers/retention-controller.js';
import { DEFAULT_STOPPED_TASK_RETENTION_MS } from '../domain/task/retention.js';

export const DEFAULT_PORT = 7345;

export const serverConfigSchema = z.object({
  /** Interface to listen on. Loopback by default: Berth has no authentication yet. */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP port of the ECS API (0 = any free port). */
  port: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORT),
  /** Where the embedded store keeps its files. */
  dataDir: z.string().min(1).default(join(homedir(), '.berth')),
  /** Account id used in ARNs. */
  accountId: z
    .string()
    .regex(/^[0-9]{12}$/, 'must be 12 digits')
    .default('123456789012'),
  /** Region for requests whose signature names none. */
  defaultRegion: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'must look like us-east-1')
    .default('us-east-1'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest request body accepted, in bytes (ECS's largest requests are task definitions, well under this). */
  bodyLimit: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /**
   * SQLite durability. NORMAL (default): nothing acknowledged is lost when the process crashes or
   * is killed; a power cut may lose the last moments of writes. GROUP: every acknowledged write
   * is also fdatasync'ed (group commit, off the event loop); FULL: fsync inside each commit.
   */
  sqliteSynchronous: z.enum(['NORMAL', 'GROUP', 'FULL']).default('NORMAL'),
  /**
   * A STOPPED task is deleted (DescribeTasks: MISSING) once it has been stopped this long, unless
   * its service still counts it. 1 s to 30 days.
   */
  stoppedTaskRetentionMs: z.coerce
    .number()
    .int()
    .min(1000)
    .max(30 * 24 * 3_600_000)
    .default(DEFAULT_STOPPED_TASK_RETENTION_MS),
  /** How often expired stopped tasks and clientToken records are looked for. 100 ms to 1 day. */
  retentionIntervalMs: z.coerce
    .number()
    .int()
    .min(100)
    .max(24 * 3_600_000)
    .default(DEFAULT_RETENTION_INTERVAL_MS),
});

export type ServerConfig = z.infer<typeof serverConfigSchema>;

const envNames: Record<keyof ServerConfig, string> = {
  host: 'BERTH_HOST',
  port: 'BERTH_PORT',
  dataDir: 'BERTH_DATA_DIR',
  accountId: 'BERTH_ACCOUNT_ID',
  defaultRegion: 'BERTH_REGION',
  logLevel: 'BERTH_LOG_LEVEL',
  bodyLimit: 'BERTH_BODY_LIMIT',
  sqliteSynchronous: 'BERTH_SQLITE_SYNCHRONOUS',
  stoppedTaskRetentionMs: 'BERTH_STOPPED_TASK_RETENTION_MS',
  retentionIntervalMs: 'BERTH_RETENTION_INTERVAL_MS',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Merges flags over BERTH_* variables and validates; throws ConfigError naming the bad option. */
export function parseServerConfig(
  flags: Partial<Record<keyof ServerConfig, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const raw: Record<string, unknown> = {};
  for (const [k, envName] of Object.entries(envNames)) {
    const v = flags[k as keyof ServerConfig] ?? env[envName];
    if (v !== undefined) raw[k] = v;
  }
  const r = serverConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const env = envNames[key as keyof ServerConfig];
    throw new ConfigError(
      `invalid option ${key}${env ? ` (--${kebab(key)} / ${env})` : ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return r.data;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
