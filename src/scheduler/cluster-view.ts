// A cluster's placement picture kept current from store changes, so that planning a request does
// not read every instance and every task of the cluster again. Pure: the owner feeds it records
// as they change (src/control/placement-views.ts follows the store's change feed) and asks for a
// snapshot; nothing here reads a store or a clock.
//
//   instance records ──applyInstance──┐
//                                     ├──► entries (record + its PlacementInstance, immutable)
//   task records ──applyTask──► group counts per instance ──┘          │
//                                                         snapshot(): sorted entries,
//                                                         copy-on-write, rebuilt only where
//                                                         something changed
//
// For the task groups its owner names (keepRecordsOf) it also keeps the task records themselves,
// in any status (recordsOfGroup): the service scheduler reads
// a service's tasks from here on each pass, instead of the cluster's tasks or even the service's
// from the store (a pass runs on every report of every task of the service, and reading the
// records back from SQLite was a tenth of berth up's CPU while 50 tasks started).
//
// Each entry pairs an instance record (with its store version) and the PlacementInstance built
// from it and from the groups of the tasks on it at the same moment. A planner commits with
// compare-and-set on exactly the version its PlacementInstance was built from, so a picture that
// lags the store costs a lost race and a new plan, never an overcommit. Entries are never changed
// once handed out: a change makes a new entry.
//
// Records can arrive twice or out of order while a cluster is first loaded (the listing and the
// feed overlap): every apply keeps the newest version of a key, and deletions leave a tombstone
// with their revision. Once the owner says the view is settled (the listing is in and the feed
// has passed it) changes only come in order, and tombstones are dropped and no longer kept: with
// tasks deleted by retention they would otherwise grow for ever.
import type { ContainerInstanceRecord } from '../domain/records.js';
import {
  groupOfTask,
  instanceIdOfArn,
  isCountedTask,
  placementInstanceFromGroups,
  type PlacedTaskFacts,
  type PlacementInstance,
} from './snapshot.js';

/** An instance record as the store holds it: the compare-and-set needs key and version. */
export interface VersionedInstance {
  readonly key: string;
  readonly version: number;
  readonly value: ContainerInstanceRecord;
}

export interface ViewEntry {
  readonly record: VersionedInstance;
  readonly instance: PlacementInstance;
}

interface InstanceSlot {
  readonly record: VersionedInstance;
  /** Built when first asked for; a new slot replaces this one when anything it shows changes. */
  entry: ViewEntry | undefined;
}

interface TaskSlot {
  version: number;
  /** The task's `group` when the view keeps that group's records: its entry in `kept`. */
  kept: string | undefined;
  /** What the task adds to its instance's group counts (nothing when it does not count). */
  instanceArn: string | undefined;
  group: string | undefined;
}

/** A kept group's task records by key, and its keys in key order once asked for (until one comes or goes). */
interface KeptGroup<T> {
  records: Map<string, T>;
  sorted: string[] | undefined;
}

export interface ClusterViewOptions {
  /** Groups whose task records the view keeps, for recordsOfGroup (default: none). */
  keepRecordsOf?: (group: string) => boolean;
}

export class ClusterView<T extends PlacedTaskFacts = PlacedTaskFacts> {
  private readonly instances = new Map<string, InstanceSlot>();
  /** Revisions of deleted keys, so a late, older copy of them is not taken for new. */
  private readonly tombstones = new Map<string, number>();
  private readonly tasks = new Map<string, TaskSlot>();
  /** The records of the kept groups' tasks, in any status (a service's: `service:<name>`). */
  private readonly kept = new Map<string, KeptGroup<T>>();
  private readonly keepRecordsOf: (group: string) => boolean;
  /** Tasks per group on each instance (by instance ARN). */
  private readonly groups = new Map<string, Map<string, number>>();
  /** The last snapshot (sorted by instance id) and where each id sits in it. */
  private sorted: ViewEntry[] | undefined;
  private positions = new Map<string, number>();
  /** Ids whose entry changed since the last snapshot; `reorder` when the set of ids did. */
  private readonly changed = new Set<string>();
  private reorder = true;
  private settled = false;

  constructor(options: ClusterViewOptions = {}) {
    this.keepRecordsOf = options.keepRecordsOf ?? (() => false);
  }

  get instanceCount(): number {
    return this.instances.size;
  }

  get taskCount(): number {
    return this.tasks.size;
  }

  get tombstoneCount(): number {
    return this.tombstones.size;
  }

  /** From now on changes arrive in store order only: tombstones are no longer needed. */
  settle(): void {
    this.settled = true;
    this.tombstones.clear();
  }

  private bury(key: string, version: number): void {
    if (!this.settled) this.tombstones.set(key, version);
  }

  private isNewer(key: string, version: number, current: number | undefined): boolean {
    if (current !== undefined && current >= version) return false;
    const dead = this.tombstones.get(key);
    return dead === undefined || dead < version;
  }

  /** An instance record put (value) or deleted (undefined) at `version`. */
  applyInstance(key: string, value: ContainerInstanceRecord | undefined, version: number): void {
    const id = key.slice(key.lastIndexOf('/') + 1);
    const slot = this.instances.get(id);
    if (value === undefined) {
      if (slot && slot.record.version >= version) return;
      this.bury(key, version);
      if (slot) {
        this.instances.delete(id);
        this.reorder = true;
      }
      return;
    }
    if (!this.isNewer(key, version, slot?.record.version)) return;
    this.tombstones.delete(key);
    this.instances.set(id, { record: { key, version, value }, entry: undefined });
    if (slot) this.changed.add(id);
    else this.reorder = true;
  }

  /** A task record put (value) or deleted (undefined) at `version`. */
  applyTask(key: string, value: T | undefined, version: number): void {
    const slot = this.tasks.get(key);
    if (value === undefined) {
      if (slot && slot.version >= version) return;
      this.bury(key, version);
      if (slot) {
        this.count(slot, -1);
        this.keep(key, slot.kept, undefined);
        this.tasks.delete(key);
      }
      return;
    }
    if (!this.isNewer(key, version, slot?.version)) return;
    this.tombstones.delete(key);
    const counted = value.containerInstanceArn !== undefined && isCountedTask(value);
    const next: TaskSlot = {
      version,
      kept: value.group !== undefined && this.keepRecordsOf(value.group) ? value.group : undefined,
      instanceArn: counted ? value.containerInstanceArn : undefined,
      group: counted ? groupOfTask(value) : undefined,
    };
    this.keep(key, slot?.kept, next.kept, value);
    if (slot && slot.instanceArn === next.instanceArn && slot.group === next.group) {
      slot.version = version;
      slot.kept = next.kept;
      return;
    }
    if (slot) this.count(slot, -1);
    this.count(next, +1);
    this.tasks.set(key, next);
  }

  /**
   * Keys of the tasks whose `group` is `group`, in any status, in key order (the order a store
   * listing gives). Empty for a group the view keeps no records of.
   */
  taskKeysOfGroup(group: string): readonly string[] {
    const g = this.kept.get(group);
    if (!g) return [];
    g.sorted ??= [...g.records.keys()].sort();
    return g.sorted;
  }

  /**
   * The records of the tasks whose `group` is `group`, in any status, in key order: each as the
   * view last applied it. Only for a group the view keeps records of (keepRecordsOf).
   */
  recordsOfGroup(group: string): T[] {
    if (!this.keepRecordsOf(group)) throw new Error(`the view keeps no task records of group ${group}`);
    const g = this.kept.get(group);
    return g ? this.taskKeysOfGroup(group).map((k) => g.records.get(k)!) : [];
  }

  /** Files a task's record under its kept group (`to`), out of the one it was in (`from`). */
  private keep(key: string, from: string | undefined, to: string | undefined, value?: T): void {
    if (from !== undefined && from !== to) {
      const g = this.kept.get(from);
      if (g?.records.delete(key)) g.sorted = undefined;
      if (g?.records.size === 0) this.kept.delete(from);
    }
    if (to === undefined || value === undefined) return;
    let g = this.kept.get(to);
    if (!g) {
      g = { records: new Map(), sorted: undefined };
      this.kept.set(to, g);
    }
    if (!g.records.has(key)) g.sorted = undefined;
    g.records.set(key, value);
  }

  private count(t: TaskSlot, by: 1 | -1): void {
    if (t.instanceArn === undefined || t.group === undefined) return;
    let groups = this.groups.get(t.instanceArn);
    if (!groups) {
      if (by < 0) return;
      groups = new Map();
      this.groups.set(t.instanceArn, groups);
    }
    const n = (groups.get(t.group) ?? 0) + by;
    if (n > 0) groups.set(t.group, n);
    else groups.delete(t.group);
    if (groups.size === 0) this.groups.delete(t.instanceArn);
    // The instance's picture shows its groups: it needs a new entry.
    const id = instanceIdOfArn(t.instanceArn);
    const slot = this.instances.get(id);
    if (slot && slot.entry !== undefined) {
      this.instances.set(id, { record: slot.record, entry: undefined });
      this.changed.add(id);
    }
  }

  private entryOf(id: string, slot: InstanceSlot): ViewEntry {
    if (slot.entry) return slot.entry;
    const groups = this.groups.get(slot.record.value.containerInstanceArn);
    slot.entry = {
      record: slot.record,
      instance: placementInstanceFromGroups(slot.record.value, groups ? new Map(groups) : new Map()),
    };
    if (slot.entry.instance.id !== id) {
      throw new Error(`container instance record ${slot.record.key} names another instance`);
    }
    return slot.entry;
  }

  /**
   * Every instance (any status), sorted by id, each with its record. The array is never changed
   * after it is returned; the next call returns the same array when nothing changed.
   */
  snapshot(): readonly ViewEntry[] {
    if (this.reorder || !this.sorted) {
      const ids = [...this.instances.keys()].sort();
      this.sorted = ids.map((id) => this.entryOf(id, this.instances.get(id)!));
      this.positions = new Map(ids.map((id, i) => [id, i]));
      this.reorder = false;
      this.changed.clear();
      return this.sorted;
    }
    if (this.changed.size > 0) {
      const next = this.sorted.slice();
      for (const id of this.changed) {
        const at = this.positions.get(id);
        const slot = this.instances.get(id);
        if (at !== undefined && slot) next[at] = this.entryOf(id, slot);
      }
      this.changed.clear();
      this.sorted = next;
    }
    return this.sorted;
  }
}
