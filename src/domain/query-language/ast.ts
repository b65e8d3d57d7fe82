// The syntax tree of a cluster query expression, and the tables the parser checks it against:
// the subjects, the operators with their symbol and word forms, and which operators each subject
// takes (as the ECS developer guide lists them; `attribute:<name>` takes every operator).

export type SubjectKind =
  | 'agentConnected'
  | 'agentVersion'
  | 'attribute'
  | 'ec2InstanceId'
  | 'registeredAt'
  | 'runningTasksCount'
  | 'taskGroup';

export type Subject = { kind: Exclude<SubjectKind, 'attribute'> } | { kind: 'attribute'; name: string };

/** Operators by their word form (the canonical name). */
export type Operator =
  | 'equals'
  | 'not_equals'
  | 'greater_than'
  | 'greater_than_equal'
  | 'less_than'
  | 'less_than_equal'
  | 'exists'
  | 'not_exists'
  | 'in'
  | 'not_in'
  | 'matches'
  | 'not_matches';

/** Symbol → operator. `!exists` and `!in` are read as `!` followed by the word. */
export const OPERATOR_SYMBOLS: Readonly<Record<string, Operator>> = {
  '==': 'equals',
  '!=': 'not_equals',
  '>': 'greater_than',
  '>=': 'greater_than_equal',
  '<': 'less_than',
  '<=': 'less_than_equal',
  '=~': 'matches',
  '!~': 'not_matches',
};

export const OPERATOR_WORDS: ReadonlySet<string> = new Set<Operator>([
  'equals',
  'not_equals',
  'greater_than',
  'greater_than_equal',
  'less_than',
  'less_than_equal',
  'exists',
  'not_exists',
  'in',
  'not_in',
  'matches',
  'not_matches',
]);

/** How an operator is usually written in messages: its symbol when it has one. */
export const OPERATOR_DISPLAY: Readonly<Record<Operator, string>> = {
  equals: '==',
  not_equals: '!=',
  greater_than: '>',
  greater_than_equal: '>=',
  less_than: '<',
  less_than_equal: '<=',
  exists: 'exists',
  not_exists: '!exists',
  in: 'in',
  not_in: '!in',
  matches: '=~',
  not_matches: '!~',
};

const EQUALITY_AND_PATTERNS: readonly Operator[] = [
  'equals',
  'not_equals',
  'in',
  'not_in',
  'matches',
  'not_matches',
];
const ORDERING: readonly Operator[] = [
  'equals',
  'not_equals',
  'greater_than',
  'greater_than_equal',
  'less_than',
  'less_than_equal',
];

export const VALID_OPERATORS: Readonly<Record<SubjectKind, readonly Operator[]>> = {
  agentConnected: EQUALITY_AND_PATTERNS,
  agentVersion: ORDERING,
  attribute: [...OPERATOR_WORDS] as Operator[],
  ec2InstanceId: EQUALITY_AND_PATTERNS,
  registeredAt: ORDERING,
  runningTasksCount: ORDERING,
  taskGroup: EQUALITY_AND_PATTERNS,
};

/** A literal as written, with where it was (for messages about its value). */
export interface Literal {
  value: string;
  position: number;
}

export type Argument =
  | { kind: 'none' }
  | { kind: 'value'; literal: Literal }
  | { kind: 'list'; items: Literal[]; position: number };

export type QueryNode =
  | { kind: 'or'; items: QueryNode[] }
  | { kind: 'and'; items: QueryNode[] }
  | { kind: 'not'; operand: QueryNode }
  | {
      kind: 'compare';
      subject: Subject;
      /** How the subject was written, for messages. */
      subjectText: string;
      operator: Operator;
      argument: Argument;
      position: number;
    };

/** The subject as the language spells it. */
export function subjectName(s: Subject): string {
  if (s.kind === 'attribute') return `attribute:${s.name}`;
  if (s.kind === 'taskGroup') return 'task:group';
  return s.kind;
}
