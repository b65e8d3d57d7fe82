// Controller configuration: one schema, parsed when the server is constructed, so that a bad
// BERTH_* variable fails before anything starts, naming the variable. Every option has a default.
import { z } from 'zod';
import { ConfigError } from '../config/server-config.js';
import { DEFAULT_RESYNC_INTERVAL_MS, DEFAULT_WORKERS } from './controller-manager.js';

export const DEFAULT_INSTANCE_LOST_AFTER_MS = 5 * 60_000;

export const controllerConfigSchema = z.object({
  /** A host whose agent stays disconnected this long is lost: its tasks are marked STOPPED. */
  instanceLostAfterMs: z.coerce
    .number()
    .int()
    .min(100)
    .max(7 * 24 * 3_600_000)
    .default(DEFAULT_INSTANCE_LOST_AFTER_MS),
  /** How often every controller key is synced again even without a change. */
  resyncIntervalMs: z.coerce.number().int().min(100).max(3_600_000).default(DEFAULT_RESYNC_INTERVAL_MS),
  /** Syncs that may run at once, across all controllers. */
  workers: z.coerce.number().int().min(1).max(64).default(DEFAULT_WORKERS),
});

export type ControllerConfig = z.infer<typeof controllerConfigSchema>;

const envNames: Record<keyof ControllerConfig, string> = {
  instanceLostAfterMs: 'BERTH_INSTANCE_LOST_AFTER_MS',
  resyncIntervalMs: 'BERTH_CONTROLLER_RESYNC_INTERVAL_MS',
  workers: 'BERTH_CONTROLLER_WORKERS',
};

/** Reads the variables above over the defaults; throws ConfigError naming the bad one. */
export function parseControllerConfig(env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  const raw: Record<string, unknown> = {};
  for (const [k, name] of Object.entries(envNames)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[k] = v;
  }
  const r = controllerConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = String(issue?.path[0] ?? '') as keyof ControllerConfig;
    throw new ConfigError(`invalid option ${key} (${envNames[key] ?? '?'}): ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}
