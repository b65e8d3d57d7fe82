// Task definition operations: Register, Describe, List, ListFamilies, Deregister, Delete.
// The rules live in src/domain/task-definition/; this module reads and writes the store.
//
// Store layout (src/store/keys.ts): one record per revision under
// `task-definitions/<family>/<revision>` and one counter per family under
// `task-definition-families/<family>` holding the last revision handed out. Registration writes
// both in one transaction, compare-and-set on the counter, so concurrent registrations of a
// family get distinct revisions and a revision number is never handed out twice, even after
// its record is deleted.
import { isArn, parseArn, parseTaskDefinitionRef } from '../../domain/arn.js';
import { clientError, invalidParameter } from '../../domain/errors.js';
import type { TaskDefinitionFamilyRecord, TaskDefinitionRecord } from '../../domain/records.js';
import { buildTaskDefinition, taskDefinitionOf, withRevision } from '../../domain/task-definition/build.js';
import {
  DELETE_FAILURE_INVALID_ID,
  DELETE_FAILURE_MISSING,
  deletionRequested,
  deregistered,
  familyStatus,
} from '../../domain/task-definition/lifecycle.js';
import { NAME_PATTERN } from '../../domain/task-definition/validate.js';
import type { Failure, TaskDefinition, TaskDefinitionStatus } from '../../generated/ecs/types.js';
import { ConflictError, updateRecord } from '../../store/cas.js';
import { keys } from '../../store/keys.js';
import type { StoredRecord } from '../../store/store.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { decodeToken, encodeToken, pageSize } from '../pagination.js';

/** Enough for every one of a burst of concurrent registrations of one family to get through. */
const MAX_REGISTER_ATTEMPTS = 100;
export const MAX_DELETE_TASK_DEFINITIONS = 10;

interface TaskDefinitionRef {
  family: string;
  revision?: number;
}

/**
 * `family`, `family:revision` or an ARN, when it can name a task definition of the caller's
 * account and region; undefined otherwise (including ARNs of another account or region).
 */
function refInScope(ctx: RequestContext, ref: string): TaskDefinitionRef | undefined {
  const parsed = parseTaskDefinitionRef(ref);
  if (!parsed || !NAME_PATTERN.test(parsed.family)) return undefined;
  if (isArn(ref)) {
    const p = parseArn(ref);
    if (!p || p.account !== ctx.account || p.region !== ctx.region) return undefined;
  }
  return parsed;
}

/** The latest ACTIVE revision of a family, as DescribeTaskDefinition / RunTask resolve a bare family. */
async function latestActive(
  ctx: RequestContext,
  family: string,
): Promise<StoredRecord<TaskDefinitionRecord> | undefined> {
  // Newest first, a page at a time: the latest revision is almost always the ACTIVE one.
  const prefix = keys.taskDefinitionsOfFamily(ctx, family);
  let startAfter: string | undefined;
  for (;;) {
    const page = await ctx.store.list<TaskDefinitionRecord>(prefix, {
      reverse: true,
      limit: LATEST_PAGE,
      ...(startAfter !== undefined ? { startAfter } : {}),
    });
    for (const r of page) if (r.value.status === 'ACTIVE') return r;
    const last = page[page.length - 1];
    if (page.length < LATEST_PAGE || !last) return undefined;
    startAfter = last.key;
  }
}

const LATEST_PAGE = 16;

/**
 * One family's revisions with one status, in revision order (key order within a family), read
 * from the store a chunk at a time until the page is full: the cost follows the page, not the
 * family's history.
 */
async function listFamilyRevisions(
  ctx: RequestContext,
  family: string,
  status: TaskDefinitionStatus,
  descending: boolean,
  size: number,
  afterSortKey: string | undefined,
): Promise<{ taskDefinitionArns: string[]; nextToken?: string }> {
  const prefix = keys.taskDefinitionsOfFamily(ctx, family);
  let cursor: string | undefined;
  if (afterSortKey !== undefined) {
    const [fam, rev] = afterSortKey.split('\n');
    if (fam !== family || rev === undefined || !/^[0-9]+$/.test(rev)) {
      throw invalidParameter('Invalid nextToken: it was issued for another query.');
    }
    cursor = keys.taskDefinition(ctx, family, Number(rev));
  }
  const chunk = Math.max(size + 1, 32);
  const arns: string[] = [];
  let lastSort: string | undefined;
  for (;;) {
    const rows = await ctx.store.list<TaskDefinitionRecord>(prefix, {
      reverse: descending,
      limit: chunk,
      ...(cursor !== undefined ? { startAfter: cursor } : {}),
    });
    for (const r of rows) {
      if (r.value.status !== status) continue;
      if (arns.length === size) return { taskDefinitionArns: arns, nextToken: encodeToken(lastSort!) };
      arns.push(r.value.taskDefinitionArn);
      lastSort = sortKey(r.value);
    }
    const last = rows[rows.length - 1];
    if (rows.length < chunk || !last) return { taskDefinitionArns: arns };
    cursor = last.key;
  }
}

/**
 * Resolves a task definition reference as ECS does everywhere one is accepted: `family:revision`
 * or an ARN with a revision names that revision (whatever its status); a bare family names the
 * latest ACTIVE revision. Undefined when nothing matches. Callers that start tasks must still
 * check the status is ACTIVE.
 */
export async function findTaskDefinition(
  ctx: RequestContext,
  ref: string,
): Promise<StoredRecord<TaskDefinitionRecord> | undefined> {
  const r = refInScope(ctx, ref);
  if (!r) return undefined;
  if (r.revision === undefined) return latestActive(ctx, r.family);
  return ctx.store.get<TaskDefinitionRecord>(keys.taskDefinition(ctx, r.family, r.revision));
}

/** Key order is not (family, revision) order ('-' sorts before '/'); this string is. */
function sortKey(td: TaskDefinitionRecord): string {
  return `${td.family}\n${String(td.revision).padStart(10, '0')}`;
}

export const taskDefinitionOperations: OperationGroup = {
  async RegisterTaskDefinition(ctx, input) {
    const draft = buildTaskDefinition(input, { now: ctx.clock.now(), principalArn: ctx.principalArn });
    const familyKey = keys.taskDefinitionFamily(ctx, input.family);
    for (let attempt = 1; attempt <= MAX_REGISTER_ATTEMPTS; attempt++) {
      const counter = await ctx.store.get<TaskDefinitionFamilyRecord>(familyKey);
      const revision = (counter?.value.lastRevision ?? 0) + 1;
      const record = withRevision(draft, ctx, revision);
      const key = keys.taskDefinition(ctx, input.family, revision);
      const nextCounter: TaskDefinitionFamilyRecord = { family: input.family, lastRevision: revision };
      const r = await ctx.store.txn(
        [
          { key: familyKey, version: counter?.version ?? 0 },
          { key, version: 0 },
        ],
        [
          { kind: 'put', key: familyKey, value: nextCounter },
          { kind: 'put', key, value: record },
        ],
      );
      if (r.succeeded) {
        ctx.log.debug({ taskDefinitionArn: record.taskDefinitionArn, attempt }, 'task definition registered');
        return {
          taskDefinition: taskDefinitionOf(record),
          ...(input.tags !== undefined ? { tags: record.tags } : {}),
        };
      }
    }
    throw new ConflictError(familyKey, MAX_REGISTER_ATTEMPTS);
  },

  async DescribeTaskDefinition(ctx, input) {
    const found = await findTaskDefinition(ctx, input.taskDefinition);
    if (!found) throw clientError('Unable to describe task definition.');
    return {
      taskDefinition: taskDefinitionOf(found.value),
      ...(input.include?.includes('TAGS') ? { tags: found.value.tags } : {}),
    };
  },

  async ListTaskDefinitions(ctx, input) {
    const status: TaskDefinitionStatus = input.status ?? 'ACTIVE';
    const descending = input.sort === 'DESC';
    const size = pageSize(input.maxResults);
    const after = decodeToken(input.nextToken);
    // ECS treats familyPrefix here as the full family name, not a prefix (unlike ListTaskDefinitionFamilies).
    const family =
      input.familyPrefix === undefined || input.familyPrefix === '' ? undefined : input.familyPrefix;
    if (family !== undefined && !NAME_PATTERN.test(family)) return { taskDefinitionArns: [] };
    if (family !== undefined) return listFamilyRevisions(ctx, family, status, descending, size, after);
    const prefix =
      family === undefined ? keys.taskDefinitions(ctx) : keys.taskDefinitionsOfFamily(ctx, family);
    const rows = (await ctx.store.list<TaskDefinitionRecord>(prefix))
      .filter((r) => r.value.status === status)
      .map((r) => ({ sort: sortKey(r.value), arn: r.value.taskDefinitionArn }))
      .sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0));
    if (descending) rows.reverse();
    // The token is the sort key of the last item returned, so a page stays correct even when
    // revisions change status between calls.
    const rest =
      after === undefined ? rows : rows.filter((r) => (descending ? r.sort < after : r.sort > after));
    const page = rest.slice(0, size);
    const last = page[page.length - 1];
    return {
      taskDefinitionArns: page.map((r) => r.arn),
      ...(rest.length > size && last ? { nextToken: encodeToken(last.sort) } : {}),
    };
  },

  async ListTaskDefinitionFamilies(ctx, input) {
    // ECS lists both ACTIVE and INACTIVE families unless told otherwise.
    const wanted = input.status ?? 'ALL';
    const size = pageSize(input.maxResults);
    const after = decodeToken(input.nextToken);
    const familyPrefix = input.familyPrefix ?? '';
    if (familyPrefix !== '' && !/^[A-Za-z0-9_-]+$/.test(familyPrefix)) return { families: [] };
    const statuses = new Map<string, TaskDefinitionStatus[]>();
    for (const r of await ctx.store.list<TaskDefinitionRecord>(keys.taskDefinitions(ctx) + familyPrefix)) {
      const list = statuses.get(r.value.family) ?? [];
      list.push(r.value.status ?? 'ACTIVE');
      statuses.set(r.value.family, list);
    }
    const families = [...statuses]
      .filter(([, s]) => {
        const fs = familyStatus(s);
        return fs !== undefined && (wanted === 'ALL' || fs === wanted);
      })
      .map(([f]) => f)
      .filter((f) => f.startsWith(familyPrefix) && (after === undefined || f > after))
      .sort();
    const page = families.slice(0, size);
    const last = page[page.length - 1];
    return {
      families: page,
      ...(families.length > size && last ? { nextToken: encodeToken(last) } : {}),
    };
  },

  async DeregisterTaskDefinition(ctx, input) {
    const r = refInScope(ctx, input.taskDefinition);
    if (!r) throw clientError('Unable to deregister task definition.');
    if (r.revision === undefined) {
      throw clientError(
        `taskDefinition '${input.taskDefinition}' must name a revision (family:revision or a full ARN) to be deregistered.`,
      );
    }
    const now = ctx.clock.now();
    const stored = await updateRecord<TaskDefinitionRecord>(
      ctx.store,
      keys.taskDefinition(ctx, r.family, r.revision),
      (cur) => {
        if (!cur) return undefined;
        const next = deregistered(cur, now);
        return next === cur ? undefined : next;
      },
    );
    if (!stored) throw clientError('Unable to deregister task definition.');
    return { taskDefinition: taskDefinitionOf(stored) };
  },

  async DeleteTaskDefinitions(ctx, input) {
    const refs = input.taskDefinitions;
    if (refs.length === 0 || refs.length > MAX_DELETE_TASK_DEFINITIONS) {
      throw invalidParameter(
        `taskDefinitions must contain between 1 and ${MAX_DELETE_TASK_DEFINITIONS} task definitions; got ${refs.length}.`,
      );
    }
    const now = ctx.clock.now();
    const taskDefinitions: TaskDefinition[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const r = refInScope(ctx, ref);
      if (!r || r.revision === undefined) {
        // A foreign account/region ARN is well formed but names nothing here.
        const wellFormed = parseTaskDefinitionRef(ref)?.revision !== undefined && isArn(ref);
        failures.push({ arn: ref, reason: wellFormed ? DELETE_FAILURE_MISSING : DELETE_FAILURE_INVALID_ID });
        continue;
      }
      let failure: string | undefined;
      const stored = await updateRecord<TaskDefinitionRecord>(
        ctx.store,
        keys.taskDefinition(ctx, r.family, r.revision),
        (cur) => {
          failure = undefined;
          if (!cur) return undefined;
          const outcome = deletionRequested(cur, now);
          if ('failure' in outcome) {
            failure = outcome.failure;
            return undefined;
          }
          return outcome.record === cur ? undefined : outcome.record;
        },
      );
      if (!stored) failures.push({ arn: ref, reason: DELETE_FAILURE_MISSING });
      else if (failure !== undefined) failures.push({ arn: ref, reason: failure });
      else taskDefinitions.push(taskDefinitionOf(stored));
    }
    return { taskDefinitions, failures };
  },
};
