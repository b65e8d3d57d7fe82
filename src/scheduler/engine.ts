// The placement engine: which container instance gets each task of a request. Pure: it plans
// against a read-only snapshot (snapshot.ts) and keeps its own state for the tasks it places;
// the caller commits each placement with compare-and-set and starts a new session on fresh state
// when it loses a race.
//
// A chain of small stages, Nomad-style, assembled in one place (feasibilityChain, rankingChain):
//
//   snapshot ──► feasibility checkers ──────────────────────► rankers ──────────────► pick
//                status · agent · cpu · memory · ports ·      strategies in order:     lowest key,
//                gpu · requiresAttributes · distinctInstance  binpack / spread keys,   ties → next
//                · memberOf                                   random breaks ties       strategy
//                (first failing check = the instance's                                 → snapshot
//                 reason, counted per reason)                                            order
//
// Why it is fast at 5,000 instances (bench/placement.ts):
// - Every check depends on one instance only, and placing a task changes one instance only. So
//   each instance is judged once per session (memberOf expressions included: compiled once per
//   request, evaluated once per instance), the verdicts live in a Uint8Array, and after each
//   placement only the instance that took the task is judged again. The instances that fit are
//   kept in a compact index list (swap-remove), so a pick scans only them.
// - Rankers expose their key as numbers in typed arrays (remaining memory, tasks of the group per
//   zone...), updated in place after each placement: the pick is one tight loop with no
//   allocation and no per-instance object.
// - Spread counts per value (zone) are kept incrementally: +1 on the value that took the task.
import type { CompiledQuery, InstanceFacts } from '../domain/query-language/compile.js';
import type { ConstraintSpec, StrategySpec } from './placement-spec.js';
import { Verdict, reasonOf } from './reasons.js';
import type { Rng } from './rng.js';
import type { PlacementInstance } from './snapshot.js';

export interface TaskPlacementRequest {
  cpu: number;
  memory: number;
  /** Static TCP / UDP host ports the task binds. */
  ports?: readonly number[];
  portsUdp?: readonly number[];
  /** GPUs the task needs (sum of the containers' GPU requirements). */
  gpu?: number;
  /**
   * The task's group: `service:<name>` for a service's tasks, else RunTask's group or
   * `family:<family>`. Spread counts, distinctInstance and task:group use it.
   */
  group: string;
  constraints?: readonly ConstraintSpec[];
  strategies?: readonly StrategySpec[];
  /** The task definition's requiresAttributes: each must be on the instance (with the value, if one is given). */
  requiredAttributes?: readonly { name: string; value?: string }[];
}

export interface PlacementOptions {
  /** Needed when a strategy is `random`; the engine never calls Math.random. */
  rng?: Rng;
}

export interface Placement {
  instanceId: string;
  instanceArn?: string;
  /** Position of the instance in the snapshot. */
  index: number;
  /** GPU ids given to the task (empty when it needs none). */
  gpuIds: readonly string[];
}

export interface Rejection {
  instanceId: string;
  instanceArn?: string;
  /** ECS reason: RESOURCE:CPU, RESOURCE:MEMORY, RESOURCE:PORTS, RESOURCE:GPU, ATTRIBUTE, AGENT, or a status. */
  reason: string;
  /** What exactly failed, as the end of a sentence about the instance ("has insufficient memory available."). */
  detail: string;
}

export interface PlacementFailure {
  /** Every instance of the snapshot with why it refused the task, in snapshot order. */
  rejections: Rejection[];
  /** Rejected instances per reason. */
  reasonCounts: Record<string, number>;
  /** The instance that passed the most checks (ties: the first); undefined for an empty snapshot. */
  closest?: Rejection;
}

export type PlacementDecision =
  { placement: Placement; failure?: undefined } | { placement?: undefined; failure: PlacementFailure };

export interface PlacementPlan {
  /** The instance of each placed task, in task order. */
  placements: Placement[];
  /** Tasks left without an instance: once one task fits nowhere, neither does any later one. */
  unplaced: number;
  /** Why the first unplaced task fitted nowhere. */
  failure?: PlacementFailure;
}

// ---------------------------------------------------------------------------------------------
// Session state: the snapshot plus what this session has placed

class SessionState {
  readonly n: number;
  readonly cpu: Float64Array;
  readonly memory: Float64Array;
  /** Tasks this session placed on each instance. */
  readonly placedHere: Int32Array;
  /** Tasks of the request's group on each instance (snapshot + placed). */
  readonly groupHere: Float64Array;
  readonly ports: ReadonlySet<number>[];
  readonly portsUdp: ReadonlySet<number>[];
  readonly gpuIds: (readonly string[])[];
  /** Set when a port set was copied, so later placements add to the copy in place. */
  private readonly ownPorts: Uint8Array;

  constructor(
    readonly instances: readonly PlacementInstance[],
    readonly request: Required<TaskPlacementRequest>,
    /** Whether constraints read what placing changes (task groups, running counts). */
    private readonly factsChange: boolean,
  ) {
    const n = instances.length;
    this.n = n;
    this.cpu = new Float64Array(n);
    this.memory = new Float64Array(n);
    this.placedHere = new Int32Array(n);
    this.groupHere = new Float64Array(n);
    this.ownPorts = new Uint8Array(n);
    this.ports = [];
    this.portsUdp = [];
    this.gpuIds = [];
    // Port sets and GPU lists are only copied when the task needs them (the checkers and take()
    // read them only then).
    const needsPorts = request.ports.length > 0 || request.portsUdp.length > 0;
    const needsGpu = request.gpu > 0;
    for (let i = 0; i < n; i++) {
      const inst = instances[i]!;
      this.cpu[i] = inst.remaining.cpu;
      this.memory[i] = inst.remaining.memory;
      this.groupHere[i] = inst.taskGroups.get(request.group) ?? 0;
      if (needsPorts) {
        this.ports[i] = inst.remaining.ports;
        this.portsUdp[i] = inst.remaining.portsUdp;
      }
      if (needsGpu) this.gpuIds[i] = inst.gpuIds;
    }
  }

  /** What a query sees of instance i: the snapshot, with this session's tasks folded in. */
  facts(i: number): InstanceFacts {
    const inst = this.instances[i]!;
    const placed = this.placedHere[i]!;
    if (placed === 0 || !this.factsChange) return inst;
    const taskGroups = new Map(inst.taskGroups);
    taskGroups.set(this.request.group, (taskGroups.get(this.request.group) ?? 0) + placed);
    return {
      agentConnected: inst.agentConnected,
      agentVersion: inst.agentVersion,
      ec2InstanceId: inst.ec2InstanceId,
      registeredAt: inst.registeredAt,
      // A task placed in this plan counts as running for the query: otherwise
      // `runningTasksCount == 0` would let one call put all its tasks on the same "empty" instance.
      runningTasksCount: inst.runningTasksCount + placed,
      attributes: inst.attributes,
      taskGroups,
    };
  }

  /** Books one task on instance i; returns the GPU ids it gets. */
  take(i: number): readonly string[] {
    const r = this.request;
    this.cpu[i] = this.cpu[i]! - r.cpu;
    this.memory[i] = this.memory[i]! - r.memory;
    this.placedHere[i] = this.placedHere[i]! + 1;
    this.groupHere[i] = this.groupHere[i]! + 1;
    if (r.ports.length > 0 || r.portsUdp.length > 0) {
      if (this.ownPorts[i] === 0) {
        this.ports[i] = new Set(this.ports[i]);
        this.portsUdp[i] = new Set(this.portsUdp[i]);
        this.ownPorts[i] = 1;
      }
      for (const p of r.ports) (this.ports[i] as Set<number>).add(p);
      for (const p of r.portsUdp) (this.portsUdp[i] as Set<number>).add(p);
    }
    if (r.gpu === 0) return [];
    const free = this.gpuIds[i]!;
    this.gpuIds[i] = free.slice(r.gpu);
    return free.slice(0, r.gpu);
  }
}

// ---------------------------------------------------------------------------------------------
// Feasibility checkers: each rejects with one verdict

interface FeasibilityChecker {
  /** The verdict of an instance this checker rejects. */
  readonly rejects: Verdict;
  feasible(s: SessionState, i: number): boolean;
  /** The end of a sentence saying why instance i was rejected. */
  detail(s: SessionState, i: number): string;
}

const statusChecker: FeasibilityChecker = {
  rejects: Verdict.STATUS,
  feasible: (s, i) => s.instances[i]!.status === 'ACTIVE',
  detail: (s, i) => `is ${s.instances[i]!.status}, so it takes no new tasks.`,
};

const agentChecker: FeasibilityChecker = {
  rejects: Verdict.AGENT,
  feasible: (s, i) => s.instances[i]!.agentConnected,
  detail: () => 'encountered error "AGENT".',
};

const cpuChecker: FeasibilityChecker = {
  rejects: Verdict.CPU,
  feasible: (s, i) => s.cpu[i]! >= s.request.cpu,
  detail: () => 'has insufficient CPU units available.',
};

const memoryChecker: FeasibilityChecker = {
  rejects: Verdict.MEMORY,
  feasible: (s, i) => s.memory[i]! >= s.request.memory,
  detail: () => 'has insufficient memory available.',
};

const portsChecker: FeasibilityChecker = {
  rejects: Verdict.PORTS,
  feasible: (s, i) => {
    const tcp = s.ports[i]!;
    const udp = s.portsUdp[i]!;
    for (const p of s.request.ports) if (tcp.has(p)) return false;
    for (const p of s.request.portsUdp) if (udp.has(p)) return false;
    return true;
  },
  detail: () => 'is already using a port required by your task.',
};

const gpuChecker: FeasibilityChecker = {
  rejects: Verdict.GPU,
  feasible: (s, i) => s.gpuIds[i]!.length >= s.request.gpu,
  detail: () => 'has insufficient GPUs available.',
};

const requiredAttributesChecker: FeasibilityChecker = {
  rejects: Verdict.REQUIRED_ATTRIBUTE,
  feasible: (s, i) => {
    const attrs = s.instances[i]!.attributes;
    for (const a of s.request.requiredAttributes) {
      if (!attrs.has(a.name)) return false;
      if (a.value !== undefined && attrs.get(a.name) !== a.value) return false;
    }
    return true;
  },
  detail: (s, i) => {
    const attrs = s.instances[i]!.attributes;
    const missing = s.request.requiredAttributes.find(
      (a) => !attrs.has(a.name) || (a.value !== undefined && attrs.get(a.name) !== a.value),
    );
    return `is missing an attribute required by your task${missing ? ` (${missing.name})` : ''}.`;
  },
};

const distinctInstanceChecker: FeasibilityChecker = {
  rejects: Verdict.DISTINCT_INSTANCE,
  feasible: (s, i) => s.groupHere[i]! === 0,
  detail: (s) => `already runs a task of group ${s.request.group} (distinctInstance constraint).`,
};

function memberOfChecker(query: CompiledQuery, member: string): FeasibilityChecker {
  return {
    rejects: Verdict.MEMBER_OF,
    feasible: (s, i) => query.test(s.facts(i)),
    detail: () => `does not match the memberOf constraint ${member} '${query.text}'.`,
  };
}

/**
 * The checks, in the order that names an instance's reason. Order matters twice: the first check
 * an instance fails is its reason, and a later check means "closer to fitting".
 */
function feasibilityChain(req: Required<TaskPlacementRequest>): FeasibilityChecker[] {
  return [
    // What the instance is comes before what the task needs: a DRAINING or unreachable instance
    // gets nothing, whatever it has free, and that is the useful thing to report about it.
    statusChecker,
    agentChecker,
    // Resource fit, in ECS's order (cpu, memory, ports, gpu): a few comparisons each, re-run
    // for the instance that takes a task since its resources shrink.
    cpuChecker,
    memoryChecker,
    ...(req.ports.length > 0 || req.portsUdp.length > 0 ? [portsChecker] : []),
    ...(req.gpu > 0 ? [gpuChecker] : []),
    // Constraints after resource fit, as ECS orders them. They are binding like resources but
    // cost more (an expression per instance), and only run on instances that could hold the task.
    ...(req.requiredAttributes.length > 0 ? [requiredAttributesChecker] : []),
    ...(req.constraints.some((c) => c.type === 'distinctInstance') ? [distinctInstanceChecker] : []),
    ...req.constraints.flatMap((c) => (c.type === 'memberOf' ? [memberOfChecker(c.query, c.member)] : [])),
  ];
}

// ---------------------------------------------------------------------------------------------
// Rankers: each turns a strategy into a number per instance, lower is better

interface Ranker {
  /** key(i) = values[index ? index[i] : i] */
  readonly values: Float64Array;
  readonly index: Int32Array | null;
  /** After a task landed on instance i (the session state is already updated). */
  placed(i: number): void;
}

/** binpack: the least of the resource left after placing wins (same order as the least left now). */
function binpackRanker(s: SessionState, field: 'cpu' | 'memory'): Ranker {
  return { values: field === 'cpu' ? s.cpu : s.memory, index: null, placed: () => {} };
}

/** spread over instances: fewest tasks of the group on the instance wins. */
function spreadInstanceRanker(s: SessionState): Ranker {
  return { values: s.groupHere, index: null, placed: () => {} };
}

/**
 * spread over an attribute: fewest tasks of the group on instances with the same value wins.
 * Counts cover every instance of the snapshot (tasks on a full instance still count for its
 * zone); only values of instances that fit compete, since only those are scanned. Instances
 * without the attribute share one value of their own.
 */
function spreadAttributeRanker(s: SessionState, name: string): Ranker {
  const ids = new Map<string, number>();
  const index = new Int32Array(s.n);
  const sums: number[] = [];
  let missing = -1;
  for (let i = 0; i < s.n; i++) {
    const v = s.instances[i]!.attributes.get(name);
    let id: number;
    if (v === undefined) {
      if (missing < 0) {
        missing = sums.length;
        sums.push(0);
      }
      id = missing;
    } else {
      const known = ids.get(v);
      if (known === undefined) {
        id = sums.length;
        ids.set(v, id);
        sums.push(0);
      } else id = known;
    }
    index[i] = id;
    sums[id] = sums[id]! + s.groupHere[i]!;
  }
  const counts = Float64Array.from(sums);
  return {
    values: counts,
    index,
    placed: (i) => {
      counts[index[i]!] = counts[index[i]!]! + 1;
    },
  };
}

/**
 * Strategies in order; each later one only breaks ties of those before. `random` breaks every
 * remaining tie, so strategies after it could never matter and are left out.
 */
function rankingChain(
  s: SessionState,
  strategies: readonly StrategySpec[],
): { rankers: Ranker[]; random: boolean } {
  const rankers: Ranker[] = [];
  for (const st of strategies) {
    switch (st.type) {
      case 'binpack':
        rankers.push(binpackRanker(s, st.field));
        break;
      case 'spread':
        rankers.push(
          st.field.kind === 'instance' ? spreadInstanceRanker(s) : spreadAttributeRanker(s, st.field.name),
        );
        break;
      case 'random':
        return { rankers, random: true };
      default: {
        const never: never = st;
        throw new Error(`unknown strategy ${JSON.stringify(never)}`);
      }
    }
  }
  return { rankers, random: false };
}

// ---------------------------------------------------------------------------------------------
// The session

function normalizeRequest(req: TaskPlacementRequest): Required<TaskPlacementRequest> {
  for (const [name, v] of [
    ['cpu', req.cpu],
    ['memory', req.memory],
    ['gpu', req.gpu ?? 0],
  ] as const) {
    if (!Number.isFinite(v) || v < 0)
      throw new Error(`placement request ${name} must be a non-negative number; got ${v}`);
  }
  return {
    cpu: req.cpu,
    memory: req.memory,
    ports: req.ports ?? [],
    portsUdp: req.portsUdp ?? [],
    gpu: req.gpu ?? 0,
    group: req.group,
    constraints: req.constraints ?? [],
    strategies: req.strategies ?? [],
    requiredAttributes: req.requiredAttributes ?? [],
  };
}

/**
 * Places the tasks of one request one at a time on a snapshot, remembering what it placed.
 * Cheap to create (one pass over the instances) and O(instances that fit) per task.
 */
export class PlacementSession {
  private readonly state: SessionState;
  private readonly checkers: FeasibilityChecker[];
  private readonly verdicts: Uint8Array;
  /** Instances that fit, in no particular order, and where each sits in it (-1: rejected). */
  private readonly feasible: Int32Array;
  private readonly feasibleAt: Int32Array;
  private feasibleCount = 0;
  private readonly keyValues: Float64Array[];
  private readonly keyIndex: (Int32Array | null)[];
  private readonly rankers: Ranker[];
  private readonly random: boolean;
  private readonly rng: Rng | undefined;
  private readonly bestKeys: Float64Array;
  private failure: PlacementFailure | undefined;

  constructor(
    instances: readonly PlacementInstance[],
    request: TaskPlacementRequest,
    options: PlacementOptions = {},
  ) {
    const req = normalizeRequest(request);
    const factsChange = req.constraints.some(
      (c) =>
        c.type === 'memberOf' &&
        (c.query.subjects.has('taskGroup') || c.query.subjects.has('runningTasksCount')),
    );
    this.state = new SessionState(instances, req, factsChange);
    this.checkers = feasibilityChain(req);
    const { rankers, random } = rankingChain(this.state, req.strategies);
    if (random && options.rng === undefined) {
      throw new Error('a random placement strategy needs options.rng (the engine never calls Math.random)');
    }
    this.rankers = rankers;
    this.random = random;
    this.rng = options.rng;
    this.keyValues = rankers.map((r) => r.values);
    this.keyIndex = rankers.map((r) => r.index);
    this.bestKeys = new Float64Array(rankers.length);

    const n = instances.length;
    this.verdicts = new Uint8Array(n);
    this.feasible = new Int32Array(n);
    this.feasibleAt = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const v = this.judge(i);
      this.verdicts[i] = v;
      if (v === Verdict.FITS) {
        this.feasible[this.feasibleCount] = i;
        this.feasibleAt[i] = this.feasibleCount++;
      }
    }
  }

  private judge(i: number): Verdict {
    for (const c of this.checkers) if (!c.feasible(this.state, i)) return c.rejects;
    return Verdict.FITS;
  }

  private drop(i: number): void {
    const at = this.feasibleAt[i]!;
    const last = this.feasible[--this.feasibleCount]!;
    this.feasible[at] = last;
    this.feasibleAt[last] = at;
    this.feasibleAt[i] = -1;
  }

  private keepKeysOf(i: number): void {
    for (let r = 0; r < this.keyValues.length; r++) {
      const idx = this.keyIndex[r]!;
      this.bestKeys[r] = this.keyValues[r]![idx === null ? i : idx[i]!]!;
    }
  }

  /** The best instance that fits, or -1. */
  private pick(): number {
    const values = this.keyValues;
    const index = this.keyIndex;
    const nk = values.length;
    const bestKeys = this.bestKeys;
    const feasible = this.feasible;
    let best = -1;
    let ties = 0;
    for (let k = 0; k < this.feasibleCount; k++) {
      const i = feasible[k]!;
      if (best < 0) {
        best = i;
        ties = 1;
        this.keepKeysOf(i);
        continue;
      }
      let cmp = 0;
      for (let r = 0; r < nk; r++) {
        const idx = index[r]!;
        const v = values[r]![idx === null ? i : idx[i]!]!;
        const b = bestKeys[r]!;
        if (v !== b) {
          cmp = v < b ? -1 : 1;
          break;
        }
      }
      if (cmp < 0) {
        best = i;
        ties = 1;
        this.keepKeysOf(i);
      } else if (cmp === 0) {
        if (this.random) {
          // Reservoir sampling: each of the k tied instances ends up chosen with probability 1/k.
          ties++;
          if (this.rng!() * ties < 1) best = i;
        } else if (i < best) {
          best = i;
        }
      }
    }
    return best;
  }

  /** Chooses an instance for the next task and books the task on it; or says why none fits. */
  next(): PlacementDecision {
    if (this.failure) return { failure: this.failure };
    const i = this.pick();
    if (i < 0) {
      this.failure = this.describeFailure();
      return { failure: this.failure };
    }
    const gpuIds = this.state.take(i);
    for (const r of this.rankers) r.placed(i);
    const v = this.judge(i);
    this.verdicts[i] = v;
    if (v !== Verdict.FITS) this.drop(i);
    const inst = this.state.instances[i]!;
    return {
      placement: {
        instanceId: inst.id,
        ...(inst.arn !== undefined ? { instanceArn: inst.arn } : {}),
        index: i,
        gpuIds,
      },
    };
  }

  /** Places up to `count` tasks; stops at the first that fits nowhere. */
  place(count: number): PlacementPlan {
    const placements: Placement[] = [];
    for (let t = 0; t < count; t++) {
      const d = this.next();
      if (d.failure) return { placements, unplaced: count - t, failure: d.failure };
      placements.push(d.placement);
    }
    return { placements, unplaced: 0 };
  }

  /** How many instances fit the next task right now. */
  get feasibleInstances(): number {
    return this.feasibleCount;
  }

  private describeFailure(): PlacementFailure {
    const s = this.state;
    const rejections: Rejection[] = [];
    const reasonCounts: Record<string, number> = {};
    let closest: Rejection | undefined;
    let closestVerdict = -1;
    for (let i = 0; i < s.n; i++) {
      const v = this.verdicts[i]! as Verdict;
      const inst = s.instances[i]!;
      const checker =
        this.checkers.find((c) => c.rejects === v && !c.feasible(s, i)) ??
        this.checkers.find((c) => c.rejects === v);
      const rejection: Rejection = {
        instanceId: inst.id,
        ...(inst.arn !== undefined ? { instanceArn: inst.arn } : {}),
        reason: reasonOf(v, inst.status),
        detail: checker ? checker.detail(s, i) : '',
      };
      rejections.push(rejection);
      reasonCounts[rejection.reason] = (reasonCounts[rejection.reason] ?? 0) + 1;
      if (v > closestVerdict) {
        closest = rejection;
        closestVerdict = v;
      }
    }
    return closest ? { rejections, reasonCounts, closest } : { rejections, reasonCounts };
  }
}

/** Plans `count` tasks of one request on a snapshot (a session used once). */
export function planTaskPlacements(
  instances: readonly PlacementInstance[],
  request: TaskPlacementRequest,
  count: number,
  options: PlacementOptions = {},
): PlacementPlan {
  return new PlacementSession(instances, request, options).place(count);
}
