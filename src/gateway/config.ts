// Agent gateway configuration: one schema, parsed when the server is constructed. Every option
// has a default from the session protocol and an environment variable so that tests (and
// operators on flaky networks) can shorten or stretch the heartbeat. Bad values fail at once,
// naming the variable.
import { z } from 'zod';
import { ConfigError } from '../config/server-config.js';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS } from '../domain/agent-protocol.js';

export const gatewayConfigSchema = z
  .object({
    /** How often the gateway pings each agent. */
    heartbeatIntervalMs: z.coerce.number().int().min(10).max(600_000).default(HEARTBEAT_INTERVAL_MS),
    /** A session silent (no pong, no message) for this long is terminated; also the time allowed for `hello`. */
    heartbeatTimeoutMs: z.coerce.number().int().min(20).max(3_600_000).default(HEARTBEAT_TIMEOUT_MS),
    /** How long `GET /berth/v1/logs` waits for the agent's first answer before sending headers anyway. */
    logsFirstAnswerWaitMs: z.coerce.number().int().min(0).max(60_000).default(1_000),
    /** Unread log output buffered per HTTP client before the relay gives up on a slow reader. */
    logsMaxBufferedBytes: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .default(4 * 1024 * 1024),
    /** After an agent's report failed to apply, the first retry waits this long; each next one twice as long. */
    reportRetryBaseMs: z.coerce.number().int().min(1).max(600_000).default(500),
    /** The longest wait between two retries of a report. */
    reportRetryMaxMs: z.coerce.number().int().min(1).max(3_600_000).default(30_000),
  })
  .refine((c) => c.heartbeatTimeoutMs > c.heartbeatIntervalMs, {
    message: 'must be longer than the heartbeat interval',
    path: ['heartbeatTimeoutMs'],
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

const envNames: Record<keyof GatewayConfig, string> = {
  heartbeatIntervalMs: 'BERTH_AGENT_HEARTBEAT_INTERVAL_MS',
  heartbeatTimeoutMs: 'BERTH_AGENT_HEARTBEAT_TIMEOUT_MS',
  logsFirstAnswerWaitMs: 'BERTH_LOGS_FIRST_ANSWER_WAIT_MS',
  logsMaxBufferedBytes: 'BERTH_LOGS_MAX_BUFFERED_BYTES',
  reportRetryBaseMs: 'BERTH_AGENT_REPORT_RETRY_BASE_MS',
  reportRetryMaxMs: 'BERTH_AGENT_REPORT_RETRY_MAX_MS',
};

/** Reads BERTH_AGENT_* / BERTH_LOGS_* variables over the defaults; throws ConfigError naming the bad one. */
export function parseGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const raw: Record<string, unknown> = {};
  for (const [k, name] of Object.entries(envNames)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[k] = v;
  }
  const r = gatewayConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = String(issue?.path[0] ?? '') as keyof GatewayConfig;
    throw new ConfigError(`invalid option ${key} (${envNames[key] ?? '?'}): ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}
