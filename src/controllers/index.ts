// The controllers `berth server` runs, in one list: add a controller here with one line.
// BerthServer registers each with its ControllerManager and starts them after the agent gateway.
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import type { ControllerConfig } from './config.js';
import type { Controller } from './controller.js';
import { InstanceHealthController } from './instance-health-controller.js';
import { RetentionController } from './retention-controller.js';
import { ServiceController } from './service-controller.js';

export interface ControllerDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  config: ControllerConfig;
  /** How long what is over is kept (BERTH_STOPPED_TASK_RETENTION_MS, BERTH_RETENTION_INTERVAL_MS). */
  retention: { stoppedTaskRetentionMs: number; intervalMs: number };
  /** Asks the manager for a sync of another key (ControllerManager.enqueue). */
  enqueue(controllerName: string, key: string, afterMs?: number): void;
}

export function buildControllers(deps: ControllerDeps): Controller[] {
  return [
    // One controller per line.
    new InstanceHealthController({ ...deps, lostAfterMs: deps.config.instanceLostAfterMs }),
    new ServiceController(deps),
    new RetentionController({ ...deps, ...deps.retention }),
  ];
}
