// Registering this host with the control plane (RegisterContainerInstance), again after every
// restart with the saved containerInstanceArn (the control plane keeps the instance's id, its
// custom attributes and the tasks placed on it). Retries with back-off until it succeeds or the
// agent stops: a control plane that is not up yet is normal at boot.
//   - cluster `default` missing → created (as the ECS agent does); another missing cluster is
//     waited for (someone may be creating it).
//   - the saved instance is unknown to the control plane (its store was reset) → registered anew.
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { EcsApiClient } from './ecs-api.js';
import { EcsApiError } from './ecs-api.js';
import { computeRegistrationRequest, type HostFacts, type RegistrationSettings } from './registration.js';
import {
  findRegistration,
  saveRegistration,
  type AgentStateData,
  type Registration,
} from './state/agent-state.js';

export interface RegisterDeps {
  api: Pick<EcsApiClient, 'call'>;
  state: AgentStateData;
  /** Writes the state (the registration must survive a crash right after it). */
  persist: () => void;
  clock: Clock;
  log: Logger;
  backoff: BackoffPolicy;
  signal: AbortSignal;
}

export interface RegisterTarget {
  endpoint: string;
  region: string;
  settings: Omit<RegistrationSettings, 'containerInstanceArn'>;
}

export class RegistrationAbortedError extends Error {
  override readonly name = 'RegistrationAbortedError';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Is this the control plane saying it has no such instance (so a fresh registration is due)? */
export function isUnknownInstance(e: unknown): boolean {
  return (
    e instanceof EcsApiError &&
    e.code === 'InvalidParameterException' &&
    /containerInstanceArn/.test(e.message)
  );
}

export async function registerInstance(
  deps: RegisterDeps,
  target: RegisterTarget,
  facts: () => Promise<HostFacts>,
): Promise<Registration> {
  const { cluster } = target.settings;
  for (let attempt = 0; ; attempt++) {
    if (deps.signal.aborted) throw new RegistrationAbortedError('the agent is stopping');
    const saved = findRegistration(deps.state, target.endpoint, cluster, target.region);
    try {
      const request = computeRegistrationRequest(await facts(), {
        ...target.settings,
        ...(saved ? { containerInstanceArn: saved.containerInstanceArn } : {}),
      });
      const out = await deps.api.call('RegisterContainerInstance', request);
      const arn = out.containerInstance?.containerInstanceArn;
      if (!arn) throw new Error('RegisterContainerInstance answered without a containerInstanceArn');
      const reg: Registration = {
        endpoint: target.endpoint,
        cluster,
        region: target.region,
        containerInstanceArn: arn,
        registeredAt: deps.clock.now(),
      };
      saveRegistration(deps.state, reg);
      deps.persist();
      deps.log.info(
        { containerInstanceArn: arn, cluster, again: saved !== undefined },
        'container instance registered',
      );
      return reg;
    } catch (e) {
      if (e instanceof EcsApiError && e.code === 'ClusterNotFoundException' && cluster === 'default') {
        deps.log.info('cluster default does not exist; creating it');
        try {
          await deps.api.call('CreateCluster', { clusterName: 'default' });
          attempt = -1;
          continue;
        } catch (ce) {
          deps.log.warn({ err: (ce as Error).message }, 'could not create cluster default');
        }
      } else if (saved && isUnknownInstance(e)) {
        deps.log.warn(
          { containerInstanceArn: saved.containerInstanceArn, err: (e as Error).message },
          'the control plane does not know this instance; registering anew',
        );
        deps.state.registrations = deps.state.registrations.filter((r) => r !== saved);
        deps.persist();
        attempt = -1;
        continue;
      }
      const delay = backoffDelay(deps.backoff, attempt, Math.random());
      deps.log.warn(
        { err: (e as Error).message, retryInMs: delay, cluster, endpoint: target.endpoint },
        'registration failed; retrying',
      );
      await sleep(delay, deps.signal);
    }
  }
}
