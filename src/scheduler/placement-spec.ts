// Placement strategies and constraints as requests carry them (RunTask, CreateService, the task
// definition), checked and compiled once per request into what the engine runs. Every refusal is
// InvalidParameterException naming the member, e.g. `placementStrategy[1].field`.
//
//   strategies   at most 5, applied in order: the first decides, each later one only breaks
//                the ties of those before it.
//                binpack  field cpu | memory (any case)
//                spread   field instanceId | host (the same thing) | attribute:<name>
//                random   no field needed (a field is ignored, as ECS does)
//   constraints  at most 10 per task, the task definition's and the request's together.
//                distinctInstance  no expression; request only (task definitions take memberOf only)
//                memberOf          a cluster query expression, compiled here once
import { compileQueryParameter, type CompiledQuery } from '../domain/query-language/compile.js';
import { invalidParameter } from '../domain/errors.js';
import type {
  PlacementConstraint,
  PlacementStrategy,
  TaskDefinitionPlacementConstraint,
} from '../generated/ecs/types.js';

export const MAX_PLACEMENT_STRATEGIES = 5;
export const MAX_PLACEMENT_CONSTRAINTS = 10;

export const AVAILABILITY_ZONE_ATTRIBUTE = 'ecs.availability-zone';

/**
 * What a service places with when it names no strategy (ECS): spread over zones, then over
 * instances. The service scheduler passes it as the service's strategy.
 */
export const DEFAULT_SERVICE_STRATEGY: readonly PlacementStrategy[] = Object.freeze([
  Object.freeze({ type: 'spread' as const, field: `attribute:${AVAILABILITY_ZONE_ATTRIBUTE}` }),
  Object.freeze({ type: 'spread' as const, field: 'instanceId' }),
]);

/**
 * What a standalone task (RunTask) places with when the request names no strategy. ECS documents
 * no default for standalone tasks; spreading the task's group over instances keeps the tasks of
 * one call on different instances, as Berth's plain fit did, instead of first-fit piling them on
 * the first instance in snapshot order.
 */
export const DEFAULT_TASK_STRATEGY: readonly PlacementStrategy[] = Object.freeze([
  Object.freeze({ type: 'spread' as const, field: 'instanceId' }),
]);

export type SpreadField = { kind: 'instance' } | { kind: 'attribute'; name: string };

export type StrategySpec =
  { type: 'binpack'; field: 'cpu' | 'memory' } | { type: 'spread'; field: SpreadField } | { type: 'random' };

export type ConstraintSpec =
  | { type: 'distinctInstance' }
  | {
      type: 'memberOf';
      query: CompiledQuery;
      /** Where it came from, for messages: `placementConstraints[0]` or `taskDefinition.placementConstraints[0]`. */
      member: string;
    };

/** Checks and compiles `placementStrategy` (RunTask, CreateService, UpdateService). */
export function parsePlacementStrategies(
  strategies: readonly PlacementStrategy[] | undefined,
  member = 'placementStrategy',
): StrategySpec[] {
  const list = strategies ?? [];
  if (!Array.isArray(list)) throw invalidParameter(`${member} must be a list.`);
  if (list.length > MAX_PLACEMENT_STRATEGIES) {
    throw invalidParameter(
      `${member} can have at most ${MAX_PLACEMENT_STRATEGIES} strategies; got ${list.length}.`,
    );
  }
  return list.map((s, i) => parseStrategy(s, `${member}[${i}]`));
}

function parseStrategy(s: PlacementStrategy, at: string): StrategySpec {
  const field = typeof s?.field === 'string' ? s.field : undefined;
  switch (s?.type) {
    case 'random':
      return { type: 'random' };
    case 'binpack': {
      const f = field?.toLowerCase();
      if (f !== 'cpu' && f !== 'memory') {
        throw invalidParameter(
          `${at}.field must be cpu or memory for a binpack strategy; got '${field ?? ''}'.`,
        );
      }
      return { type: 'binpack', field: f };
    }
    case 'spread': {
      const f = field ?? '';
      if (f.toLowerCase() === 'instanceid' || f.toLowerCase() === 'host') {
        return { type: 'spread', field: { kind: 'instance' } };
      }
      if (f.startsWith('attribute:') && f.length > 'attribute:'.length) {
        return { type: 'spread', field: { kind: 'attribute', name: f.slice('attribute:'.length) } };
      }
      throw invalidParameter(
        `${at}.field must be instanceId, host or attribute:<name> for a spread strategy; got '${f}'.`,
      );
    }
    case undefined:
    default:
      throw invalidParameter(
        `${at}.type must be one of random, spread, binpack; got '${String(s?.type ?? '')}'.`,
      );
  }
}

/**
 * Checks and compiles the constraints of one task: the task definition's (memberOf only) and the
 * request's, in that order. A malformed expression is refused with its column.
 */
export function parsePlacementConstraints(
  request: readonly PlacementConstraint[] | undefined,
  taskDefinition: readonly TaskDefinitionPlacementConstraint[] | undefined = [],
  member = 'placementConstraints',
): ConstraintSpec[] {
  const fromRequest = request ?? [];
  if (!Array.isArray(fromRequest)) throw invalidParameter(`${member} must be a list.`);
  const total = fromRequest.length + taskDefinition.length;
  if (total > MAX_PLACEMENT_CONSTRAINTS) {
    throw invalidParameter(
      `A task can have at most ${MAX_PLACEMENT_CONSTRAINTS} placement constraints, the task definition's and the request's together; got ${total}.`,
    );
  }
  const out: ConstraintSpec[] = [];
  taskDefinition.forEach((c, i) => {
    const at = `taskDefinition.placementConstraints[${i}]`;
    if (c.type !== 'memberOf') {
      throw invalidParameter(`${at}.type must be memberOf; got '${String(c.type ?? '')}'.`);
    }
    out.push(memberOf(c.expression, at));
  });
  fromRequest.forEach((c, i) => {
    const at = `${member}[${i}]`;
    if (c?.type === 'distinctInstance') {
      if (c.expression !== undefined && c.expression !== '') {
        throw invalidParameter(`${at}.expression cannot be set for a distinctInstance constraint.`);
      }
      out.push({ type: 'distinctInstance' });
    } else if (c?.type === 'memberOf') {
      out.push(memberOf(c.expression, at));
    } else {
      throw invalidParameter(
        `${at}.type must be distinctInstance or memberOf; got '${String(c?.type ?? '')}'.`,
      );
    }
  });
  return out;
}

function memberOf(expression: string | undefined, at: string): ConstraintSpec {
  if (expression === undefined || expression.trim() === '') {
    throw invalidParameter(`${at}.expression is required for a memberOf constraint.`);
  }
  return { type: 'memberOf', query: compileQueryParameter(expression, `${at}.expression`), member: at };
}
