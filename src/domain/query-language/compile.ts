// Compiles a cluster query expression into a predicate over one container instance's facts.
// Compile once (parse, check every value, build the regular expressions), then test it against
// thousands of instances: placement evaluates a memberOf expression once per instance per
// request, ListContainerInstances once per instance.
//
// Meaning of each subject (values are checked at compile time, with their column):
//   agentConnected      true / false (== != in !in), or a pattern over "true"/"false"
//   agentVersion        dotted version numbers compared number by number (1.14.10 > 1.14.9)
//   attribute:<name>    the attribute's value (built-in and custom alike); > < compare numbers
//                       numerically when both sides are numbers, else by code point; exists is
//                       true for an attribute set without a value too
//   ec2InstanceId       the EC2 instance id, as a string
//   registeredAt        instants: the argument is a date in a format ECS documents
//   runningTasksCount   whole numbers
//   task:group          true when the instance runs at least one task of a matching group:
//                       `task:group == database` = "runs a database task"
// A subject the instance does not have (no agent version, no such attribute) makes every
// positive comparison false and its negation (!=, !in, !~, !exists) true, so that
// `a != x` always means `not (a == x)`.
import type { Argument, Literal, Operator, QueryNode, Subject, SubjectKind } from './ast.js';
import { invalidParameter } from '../errors.js';
import { parseQuery } from './parser.js';
import { QuerySyntaxError } from './tokens.js';
import {
  compareAttributeValues,
  compareVersions,
  compileWholeMatch,
  parseCount,
  parseDate,
  parseVersion,
} from './values.js';

/** ECS: a constraint expression (and a filter) is at most 2000 characters. */
export const MAX_QUERY_LENGTH = 2000;

/** What an expression can ask about a container instance. */
export interface InstanceFacts {
  readonly agentConnected: boolean;
  readonly agentVersion?: string | undefined;
  readonly ec2InstanceId?: string | undefined;
  /** Epoch seconds, as on the wire. */
  readonly registeredAt?: number | undefined;
  readonly runningTasksCount: number;
  /** Built-in and custom attributes; an attribute set without a value maps to undefined. */
  readonly attributes: ReadonlyMap<string, string | undefined>;
  /** Groups of the tasks on the instance → how many of its tasks it runs (entries > 0). */
  readonly taskGroups: ReadonlyMap<string, number>;
}

export type InstancePredicate = (facts: InstanceFacts) => boolean;

export interface CompiledQuery {
  readonly text: string;
  readonly ast: QueryNode;
  /** Subjects the expression reads: callers skip loading tasks when taskGroup is absent. */
  readonly subjects: ReadonlySet<SubjectKind>;
  readonly test: InstancePredicate;
}

type Order = (d: number) => boolean;

const ORDERS: Partial<Record<Operator, Order>> = {
  equals: (d) => d === 0,
  not_equals: (d) => d !== 0,
  greater_than: (d) => d > 0,
  greater_than_equal: (d) => d >= 0,
  less_than: (d) => d < 0,
  less_than_equal: (d) => d <= 0,
};

function literalOf(arg: Argument): Literal {
  if (arg.kind !== 'value') throw new Error('comparison without a single value');
  return arg.literal;
}

function literalsOf(arg: Argument): Literal[] {
  if (arg.kind === 'list') return arg.items;
  if (arg.kind === 'value') return [arg.literal];
  return [];
}

function regexOf(lit: Literal): RegExp {
  try {
    return compileWholeMatch(lit.value);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e);
    throw new QuerySyntaxError(`'${lit.value}' is not a valid regular expression (${why})`, lit.position);
  }
}

/**
 * A predicate over one string-valued fact (undefined = the instance does not have it), for the
 * operators every string subject shares. `order` compares two present values.
 */
function stringComparison(
  operator: Operator,
  argument: Argument,
  read: (f: InstanceFacts) => string | undefined,
  order: (a: string, b: string) => number,
  normalize: (lit: Literal) => string = (lit) => lit.value,
): InstancePredicate {
  switch (operator) {
    case 'exists':
      return (f) => read(f) !== undefined;
    case 'not_exists':
      return (f) => read(f) === undefined;
    case 'in':
    case 'not_in': {
      const set = new Set(literalsOf(argument).map(normalize));
      return operator === 'in'
        ? (f) => {
            const v = read(f);
            return v !== undefined && set.has(v);
          }
        : (f) => {
            const v = read(f);
            return v === undefined || !set.has(v);
          };
    }
    case 'matches':
    case 'not_matches': {
      const re = regexOf(literalOf(argument));
      return operator === 'matches'
        ? (f) => {
            const v = read(f);
            return v !== undefined && re.test(v);
          }
        : (f) => {
            const v = read(f);
            return v === undefined || !re.test(v);
          };
    }
    case 'equals': {
      const want = normalize(literalOf(argument));
      return (f) => read(f) === want;
    }
    case 'not_equals': {
      const want = normalize(literalOf(argument));
      return (f) => read(f) !== want;
    }
    case 'greater_than':
    case 'greater_than_equal':
    case 'less_than':
    case 'less_than_equal': {
      const want = normalize(literalOf(argument));
      const ok = ORDERS[operator]!;
      return (f) => {
        const v = read(f);
        return v !== undefined && ok(order(v, want));
      };
    }
    default: {
      const never: never = operator;
      throw new Error(`unhandled operator ${String(never)}`);
    }
  }
}

/** A predicate over a fact parsed into something ordered (versions, instants, counts). */
function orderedComparison<T>(
  operator: Operator,
  argument: Argument,
  read: (f: InstanceFacts) => T | undefined,
  parse: (lit: Literal) => T,
  compare: (a: T, b: T) => number,
): InstancePredicate {
  const ok = ORDERS[operator];
  if (ok === undefined) throw new Error(`operator ${operator} is not an ordering`);
  const want = parse(literalOf(argument));
  if (operator === 'not_equals') {
    return (f) => {
      const v = read(f);
      return v === undefined || compare(v, want) !== 0;
    };
  }
  return (f) => {
    const v = read(f);
    return v !== undefined && ok(compare(v, want));
  };
}

function parseOr<T>(parse: (s: string) => T | undefined, what: string): (lit: Literal) => T {
  return (lit) => {
    const v = parse(lit.value);
    if (v === undefined) throw new QuerySyntaxError(`'${lit.value}' is not ${what}`, lit.position);
    return v;
  };
}

const asVersion = parseOr(parseVersion, 'a version number such as 1.14.5 (agentVersion compares versions)');
const asDate = parseOr(
  parseDate,
  'a date such as 2018-06-18, 2018-06-18T22:28:28, 2018-06-18T22:28:28Z or 2018-06-18T22:28:28+00:00 (registeredAt compares dates)',
);
const asCount = parseOr(parseCount, 'a whole number (runningTasksCount compares numbers of tasks)');

function asBoolean(lit: Literal): string {
  const v = lit.value.toLowerCase();
  if (v !== 'true' && v !== 'false') {
    throw new QuerySyntaxError(
      `'${lit.value}' is not true or false (agentConnected is one of them)`,
      lit.position,
    );
  }
  return v;
}

function agentVersionOf(f: InstanceFacts): number[] | undefined {
  return f.agentVersion === undefined ? undefined : parseVersion(f.agentVersion);
}

function codePointOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** task:group: does any group of a task on the instance satisfy `test`? */
function anyGroup(test: (group: string) => boolean): InstancePredicate {
  return (f) => {
    for (const [group, count] of f.taskGroups) if (count > 0 && test(group)) return true;
    return false;
  };
}

function taskGroupComparison(operator: Operator, argument: Argument): InstancePredicate {
  switch (operator) {
    case 'equals': {
      const g = literalOf(argument).value;
      return (f) => (f.taskGroups.get(g) ?? 0) > 0;
    }
    case 'not_equals': {
      const g = literalOf(argument).value;
      return (f) => (f.taskGroups.get(g) ?? 0) === 0;
    }
    case 'in':
    case 'not_in': {
      const groups = literalsOf(argument).map((l) => l.value);
      const runsOne: InstancePredicate = (f) => groups.some((g) => (f.taskGroups.get(g) ?? 0) > 0);
      return operator === 'in' ? runsOne : (f) => !runsOne(f);
    }
    case 'matches':
    case 'not_matches': {
      const re = regexOf(literalOf(argument));
      const runsOne = anyGroup((g) => re.test(g));
      return operator === 'matches' ? runsOne : (f) => !runsOne(f);
    }
    case 'exists':
    case 'not_exists':
    case 'greater_than':
    case 'greater_than_equal':
    case 'less_than':
    case 'less_than_equal':
      // The parser refuses these for task:group (VALID_OPERATORS).
      throw new Error(`operator ${operator} is not valid for task:group`);
    default: {
      const never: never = operator;
      throw new Error(`unhandled operator ${String(never)}`);
    }
  }
}

function comparison(subject: Subject, operator: Operator, argument: Argument): InstancePredicate {
  switch (subject.kind) {
    case 'agentConnected':
      return stringComparison(
        operator,
        argument,
        (f) => (f.agentConnected ? 'true' : 'false'),
        codePointOrder,
        operator === 'matches' || operator === 'not_matches' ? undefined : asBoolean,
      );
    case 'agentVersion':
      return orderedComparison(operator, argument, agentVersionOf, asVersion, compareVersions);
    case 'attribute': {
      const name = subject.name;
      if (operator === 'exists') return (f) => f.attributes.has(name);
      if (operator === 'not_exists') return (f) => !f.attributes.has(name);
      return stringComparison(operator, argument, (f) => f.attributes.get(name), compareAttributeValues);
    }
    case 'ec2InstanceId':
      return stringComparison(operator, argument, (f) => f.ec2InstanceId, codePointOrder);
    case 'registeredAt':
      return orderedComparison(
        operator,
        argument,
        (f) => f.registeredAt,
        asDate,
        (a, b) => a - b,
      );
    case 'runningTasksCount':
      return orderedComparison(
        operator,
        argument,
        (f) => f.runningTasksCount,
        asCount,
        (a, b) => a - b,
      );
    case 'taskGroup':
      return taskGroupComparison(operator, argument);
    default: {
      const never: never = subject;
      throw new Error(`unhandled subject ${JSON.stringify(never)}`);
    }
  }
}

function compileNode(node: QueryNode, subjects: Set<SubjectKind>): InstancePredicate {
  switch (node.kind) {
    case 'or': {
      const parts = node.items.map((n) => compileNode(n, subjects));
      return (f) => parts.some((p) => p(f));
    }
    case 'and': {
      const parts = node.items.map((n) => compileNode(n, subjects));
      return (f) => parts.every((p) => p(f));
    }
    case 'not': {
      const inner = compileNode(node.operand, subjects);
      return (f) => !inner(f);
    }
    case 'compare':
      subjects.add(node.subject.kind);
      return comparison(node.subject, node.operator, node.argument);
    default: {
      const never: never = node;
      throw new Error(`unhandled node ${JSON.stringify(never)}`);
    }
  }
}

/** Parses and compiles `text`; throws QuerySyntaxError (with a column) when it is not valid. */
export function compileQuery(text: string): CompiledQuery {
  if (text.length > MAX_QUERY_LENGTH) {
    throw new QuerySyntaxError(
      `the expression is ${text.length} characters long; at most ${MAX_QUERY_LENGTH} are allowed`,
      MAX_QUERY_LENGTH,
    );
  }
  const ast = parseQuery(text);
  const subjects = new Set<SubjectKind>();
  const test = compileNode(ast, subjects);
  return { text, ast, subjects, test };
}

/**
 * compileQuery for a request member (a memberOf constraint's expression, ListContainerInstances
 * `filter`): a malformed expression becomes InvalidParameterException naming the member, the
 * reason and the column.
 */
export function compileQueryParameter(text: unknown, member: string): CompiledQuery {
  if (typeof text !== 'string') throw invalidParameter(`${member} must be a string.`);
  try {
    return compileQuery(text);
  } catch (e) {
    if (e instanceof QuerySyntaxError) {
      throw invalidParameter(`${member} is not a valid cluster query expression: ${e.message}.`);
    }
    throw e;
  }
}
