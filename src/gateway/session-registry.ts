// Which session currently speaks for each host and each container instance. In-memory and
// synchronous on purpose: every connectivity write reads it at write time, so the store ends
// up agreeing with it whatever order hellos and closes happen in (see agent-gateway.ts).
//
// Rules:
// - one session per host: a newer hello for the same hostId replaces the older session;
// - one session per container instance: the newest claim wins (two hosts claiming one
//   instance means a copied agent state dir; the older one loses the instance);
// - a session that is no longer current releases nothing when it ends.

export interface RegisteredSession {
  readonly hostId: string;
  readonly instanceArns: ReadonlySet<string>;
}

export interface Registration<S> {
  /** The older session of the same host, now out of the registry (the caller closes it). */
  replaced: S | undefined;
  /** Instances no current session holds any more (the caller marks them disconnected). */
  released: string[];
}

export interface Release {
  instances: string[];
  /** The session was its host's current one. */
  host: boolean;
}

export class SessionRegistry<S extends RegisteredSession> {
  private readonly byHost = new Map<string, S>();
  private readonly byInstance = new Map<string, S>();

  register(s: S): Registration<S> {
    const old = this.byHost.get(s.hostId);
    const released: string[] = [];
    if (old && old !== s) {
      for (const arn of old.instanceArns) {
        if (this.byInstance.get(arn) !== old) continue;
        this.byInstance.delete(arn);
        if (!s.instanceArns.has(arn)) released.push(arn);
      }
    }
    this.byHost.set(s.hostId, s);
    for (const arn of s.instanceArns) this.byInstance.set(arn, s);
    return { replaced: old === s ? undefined : old, released };
  }

  unregister(s: S): Release {
    const instances: string[] = [];
    for (const arn of s.instanceArns) {
      if (this.byInstance.get(arn) === s) {
        this.byInstance.delete(arn);
        instances.push(arn);
      }
    }
    const host = this.byHost.get(s.hostId) === s;
    if (host) this.byHost.delete(s.hostId);
    return { instances, host };
  }

  forHost(hostId: string): S | undefined {
    return this.byHost.get(hostId);
  }

  forInstance(arn: string): S | undefined {
    return this.byInstance.get(arn);
  }

  isCurrent(s: S): boolean {
    return this.byHost.get(s.hostId) === s;
  }

  all(): S[] {
    return [...this.byHost.values()];
  }

  get size(): number {
    return this.byHost.size;
  }
}
