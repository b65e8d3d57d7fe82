// Every Docker time budget in one place, each with the reason for its value (milliseconds).
// A call that exceeds its budget fails with DockerTimeoutError (retriable): a wedged engine must
// never wedge the task runner. Values follow the ECS agent's where it has one.

export interface DockerTimeouts {
  /** Liveness probe: a healthy engine answers /_ping in milliseconds; longer means it is stuck. */
  pingMs: number;
  /** Version and info read static data; the ECS agent gives them 10 s. */
  versionMs: number;
  /** No pull output at all for this long means the pull will not progress (ECS: 1 min inactivity). */
  pullInactivityMs: number;
  /** Whole pull, however large the image: the ECS agent's default ECS_IMAGE_PULL_TIMEOUT is 2 h. */
  pullTotalMs: number;
  /** Image inspect and remove touch only local metadata (ECS remove-image: 3 min). */
  imageMs: number;
  /** Create can wait on the storage driver preparing layers on a busy host (ECS: 4 min). */
  createMs: number;
  /** Start includes network set-up and the runtime's exec; ECS uses 3 min. */
  startMs: number;
  /** Added to the container's own stop timeout: SIGKILL and teardown after it (ECS: 30 s). */
  stopBufferMs: number;
  /** Remove unmounts and deletes the writable layer, slow on busy disks (ECS: 5 min). */
  removeMs: number;
  /** Inspect reads daemon memory only; ECS allows 30 s for a daemon under load. */
  inspectMs: number;
  /** Listing is linear in containers on the host; ECS allows 10 min for hosts with thousands. */
  listMs: number;
  /** stats?stream=false waits for two samples about 1 s apart; more than this means a stuck cgroup read. */
  statsMs: number;
  /** Opening a log or event stream (not the stream's life, which is unbounded with follow). */
  streamOpenMs: number;
  /** Network create/remove runs IPAM and iptables; iptables under contention can take tens of seconds. */
  networkMs: number;
  /** Volume calls may go to a volume plugin; the ECS agent gives them 5 min. */
  volumeMs: number;
  /** First wait before reopening a dropped event stream: short, a daemon restart takes ~1 s. */
  eventsReconnectInitialMs: number;
  /** Longest wait between reopen attempts, so a restarted daemon is noticed within seconds. */
  eventsReconnectMaxMs: number;
}

export const defaultDockerTimeouts: Readonly<DockerTimeouts> = Object.freeze({
  pingMs: 5_000,
  versionMs: 10_000,
  pullInactivityMs: 60_000,
  pullTotalMs: 2 * 60 * 60_000,
  imageMs: 3 * 60_000,
  createMs: 4 * 60_000,
  startMs: 3 * 60_000,
  stopBufferMs: 30_000,
  removeMs: 5 * 60_000,
  inspectMs: 30_000,
  listMs: 10 * 60_000,
  statsMs: 20_000,
  streamOpenMs: 30_000,
  networkMs: 60_000,
  volumeMs: 5 * 60_000,
  eventsReconnectInitialMs: 250,
  eventsReconnectMaxMs: 5_000,
});

/** Defaults overlaid with the caller's values; every field present. */
export function compileTimeouts(overrides: Partial<DockerTimeouts> = {}): DockerTimeouts {
  const out: DockerTimeouts = { ...defaultDockerTimeouts };
  for (const [k, v] of Object.entries(overrides) as [keyof DockerTimeouts, number | undefined][]) {
    if (v === undefined) continue;
    if (!Number.isFinite(v) || v <= 0)
      throw new RangeError(`Docker timeout ${k} must be a positive number of ms, got ${v}`);
    out[k] = v;
  }
  return out;
}
