// Request validation driven by the generated shape table: every request body is checked against
// its operation's input shape before a handler sees it, so handlers can trust the wire types.
//
// Each shape is compiled once per schema into a closure; the closures return `undefined` on
// success and an Issue on the first violation. The member path is assembled only while an Issue
// travels back up (innermost segment first), so a valid request allocates nothing for paths.
// Rules and the choices behind them are in README.md beside this file.
import { EcsError, type WireErrorCode } from '../../domain/errors.js';
import type { ServiceSchema, ShapeDef } from './schema-types.js';

/** A map key in a member path, rendered `.key` or `["key"]`; `ofKey` marks a violation by the key itself. */
interface MapKeySegment {
  readonly key: string;
  readonly ofKey: boolean;
}
type PathSegment = string | number | MapKeySegment;

interface Issue {
  readonly code: WireErrorCode;
  /** Innermost segment first; reversed when rendered. */
  readonly path: PathSegment[];
  readonly describe: (path: string) => string;
}

type ShapeValidator = (value: unknown) => Issue | undefined;

/** Checks one operation's request body; throws EcsError on the first violation. */
export type InputValidator = (operation: string, input: unknown) => void;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_SHOWN_VALUE = 60;

const compiledBySchema = new WeakMap<ServiceSchema, InputValidator>();

/**
 * Validates `input` (the parsed JSON body) against the input shape of `operation`.
 * Throws SerializationException when the body is not a JSON object, UnknownOperationException
 * for an operation the schema lacks, and InvalidParameterException for any model violation.
 */
export function validateInput(schema: ServiceSchema, operation: string, input: unknown): void {
  let validator = compiledBySchema.get(schema);
  if (!validator) {
    validator = compileInputValidator(schema);
    compiledBySchema.set(schema, validator);
  }
  validator(operation, input);
}

/**
 * Builds a validator for every operation of `schema`, compiling every shape up front so a broken
 * table fails at once (call it at start-up) rather than on the one request that reaches the bad
 * shape. validateInput keeps one per schema, built on its first call.
 */
export function compileInputValidator(schema: ServiceSchema): InputValidator {
  const compiler = new ShapeCompiler(schema);
  const byOperation = new Map<string, ShapeValidator>();
  // An operation without an input shape takes an empty object and nothing else.
  const emptyInput = compiler.structure('(no input)', { type: 'structure', members: {} });
  for (const [operation, def] of Object.entries(schema.operations)) {
    byOperation.set(operation, def.input === null ? emptyInput : compiler.shape(def.input));
  }

  return (operation, input) => {
    const validate = byOperation.get(operation);
    if (!validate) throw new EcsError('UnknownOperationException', `Unknown operation: ${operation}`);
    if (!isJsonObject(input)) {
      throw new EcsError(
        'SerializationException',
        `Request body must be a JSON object, got ${typeName(input)}`,
      );
    }
    const issue = validate(input);
    if (issue) throw new EcsError(issue.code, issue.describe(renderPath(issue.path)));
  };
}

class ShapeCompiler {
  private readonly compiled = new Map<string, ShapeValidator>();
  private readonly inProgress = new Set<string>();

  constructor(private readonly schema: ServiceSchema) {}

  shape(name: string): ShapeValidator {
    const done = this.compiled.get(name);
    if (done) return done;
    // A recursive shape refers to itself before its closure exists: forward through the map.
    if (this.inProgress.has(name)) return (value) => this.compiled.get(name)!(value);
    const def = Object.hasOwn(this.schema.shapes, name) ? this.schema.shapes[name] : undefined;
    if (!def) throw new Error(`schema has no shape named ${name}`);
    this.inProgress.add(name);
    const validator = this.build(name, def);
    this.inProgress.delete(name);
    this.compiled.set(name, validator);
    return validator;
  }

  private build(name: string, def: ShapeDef): ShapeValidator {
    if (def.document) return () => undefined;
    switch (def.type) {
      case 'structure':
        return this.structure(name, def);
      case 'list':
        return this.list(name, def);
      case 'map':
        return this.map(name, def);
      case 'string':
        return stringValidator(def);
      case 'integer':
        return integerValidator(
          def,
          Math.max(def.min ?? INT32_MIN, INT32_MIN),
          Math.min(def.max ?? INT32_MAX, INT32_MAX),
        );
      case 'long':
        return integerValidator(def, def.min ?? -Infinity, def.max ?? Infinity);
      case 'double':
      case 'float':
        return numberValidator(def, 'a number');
      case 'timestamp':
        return numberValidator(def, 'a timestamp (epoch seconds as a number)');
      case 'boolean':
        return (value) => (typeof value === 'boolean' ? undefined : typeIssue('a boolean', value));
      case 'blob':
        return (value) =>
          typeof value === 'string' && BASE64.test(value)
            ? undefined
            : typeIssue('a base64-encoded string', value);
      default: {
        const unknownType: never = def.type;
        throw new Error(`shape ${name} has unsupported type ${String(unknownType)}`);
      }
    }
  }

  structure(name: string, def: ShapeDef): ShapeValidator {
    const members = new Map<string, ShapeValidator>();
    for (const [member, target] of Object.entries(def.members ?? {})) members.set(member, this.shape(target));
    const required = def.required ?? [];
    const memberList = members.size === 0 ? '(none)' : [...members.keys()].join(', ');
    if (required.some((r) => !members.has(r)))
      throw new Error(`shape ${name} requires a member it does not have`);

    return (value) => {
      if (!isJsonObject(value)) return typeIssue('an object', value);
      for (const key of Object.keys(value)) {
        const validate = members.get(key);
        if (!validate) {
          return issue(
            'InvalidParameterException',
            [],
            (p) =>
              `Unknown parameter in ${p === '' ? 'input' : p}: ${JSON.stringify(key)}, must be one of: ${memberList}`,
          );
        }
        const v = value[key];
        if (v === null) continue; // null means absent (see README)
        const found = validate(v);
        if (found) {
          found.path.push(key);
          return found;
        }
      }
      // Members are checked before presence so a misspelt required member reports the typo.
      for (const member of required) {
        const v = value[member];
        if (v === undefined || v === null) {
          return issue('InvalidParameterException', [member], (p) => `Missing required parameter: ${p}`);
        }
      }
      return undefined;
    };
  }

  private list(name: string, def: ShapeDef): ShapeValidator {
    if (def.member === undefined) throw new Error(`list shape ${name} has no member`);
    const validateItem = this.shape(def.member);
    const checkSize = sizeChecker(def, 'items');
    return (value) => {
      if (!Array.isArray(value)) return typeIssue('a list', value);
      const sizeIssue = checkSize(value.length);
      if (sizeIssue) return sizeIssue;
      for (let i = 0; i < value.length; i++) {
        const found = validateItem(value[i]);
        if (found) {
          found.path.push(i);
          return found;
        }
      }
      return undefined;
    };
  }

  private map(name: string, def: ShapeDef): ShapeValidator {
    if (def.key === undefined || def.value === undefined)
      throw new Error(`map shape ${name} lacks key or value`);
    const validateKey = this.shape(def.key);
    const validateValue = this.shape(def.value);
    const checkSize = sizeChecker(def, 'entries');
    return (value) => {
      if (!isJsonObject(value)) return typeIssue('an object (map)', value);
      const keys = Object.keys(value);
      const sizeIssue = checkSize(keys.length);
      if (sizeIssue) return sizeIssue;
      for (const key of keys) {
        let found = validateKey(key);
        if (found) {
          found.path.push({ key, ofKey: true });
          return found;
        }
        found = validateValue(value[key]);
        if (found) {
          found.path.push({ key, ofKey: false });
          return found;
        }
      }
      return undefined;
    };
  }
}

function stringValidator(def: ShapeDef): ShapeValidator {
  const allowed = def.enum ? new Set(def.enum) : undefined;
  const allowedList = def.enum?.join(', ') ?? '';
  const min = def.min ?? 0;
  const max = def.max ?? Infinity;
  const pattern = def.pattern === undefined ? undefined : compilePattern(def.pattern);
  const patternSource = def.pattern ?? '';
  return (value) => {
    if (typeof value !== 'string') return typeIssue('a string', value);
    if (allowed && !allowed.has(value)) {
      return invalid((p) => `Invalid value for parameter ${p}: ${show(value)} is not one of ${allowedList}`);
    }
    // Lengths count code points; UTF-16 length bounds the count from above and twice the count
    // from below, so the exact count is only needed near the limits.
    if (value.length > max || value.length < 2 * min) {
      const length = codePointLength(value);
      if (length < min) {
        return invalid(
          (p) => `Invalid length for parameter ${p}: must be at least ${min} character(s), got ${length}`,
        );
      }
      if (length > max) {
        return invalid(
          (p) => `Invalid length for parameter ${p}: must be at most ${max} character(s), got ${length}`,
        );
      }
    }
    if (pattern && !pattern.test(value)) {
      return invalid(
        (p) => `Invalid value for parameter ${p}: ${show(value)} does not match pattern ${patternSource}`,
      );
    }
    return undefined;
  };
}

function integerValidator(def: ShapeDef, min: number, max: number): ShapeValidator {
  const expected = def.type === 'long' ? 'an integer (long)' : 'an integer';
  return (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) return typeIssue(expected, value);
    return rangeIssue(value, min, max);
  };
}

function numberValidator(def: ShapeDef, expected: string): ShapeValidator {
  const min = def.min ?? -Infinity;
  const max = def.max ?? Infinity;
  return (value) => {
    // JSON.parse turns overflowing literals such as 1e999 into Infinity; no model value is infinite.
    if (typeof value !== 'number' || !Number.isFinite(value)) return typeIssue(expected, value);
    return rangeIssue(value, min, max);
  };
}

function rangeIssue(value: number, min: number, max: number): Issue | undefined {
  if (value < min)
    return invalid((p) => `Invalid range for parameter ${p}: must be at least ${min}, got ${value}`);
  if (value > max)
    return invalid((p) => `Invalid range for parameter ${p}: must be at most ${max}, got ${value}`);
  return undefined;
}

function sizeChecker(def: ShapeDef, noun: 'items' | 'entries'): (size: number) => Issue | undefined {
  const min = def.min ?? 0;
  const max = def.max ?? Infinity;
  return (size) => {
    if (size < min) return invalid((p) => `Too few ${noun} in parameter ${p}: at least ${min}, got ${size}`);
    if (size > max) return invalid((p) => `Too many ${noun} in parameter ${p}: at most ${max}, got ${size}`);
    return undefined;
  };
}

const patternCache = new Map<string, RegExp>();

/**
 * Compiles a model pattern to match the whole value. Smithy leaves patterns unanchored, but AWS
 * services enforce them on the whole value (ECS rejects a tag key containing `#` although its
 * pattern would find a matching substring), so we anchor. The `u` flag is needed for `\p{L}`;
 * a pattern that is only valid without it falls back to plain mode.
 */
export function compilePattern(source: string): RegExp {
  let compiled = patternCache.get(source);
  if (compiled) return compiled;
  const anchored = `^(?:${source})$`;
  try {
    compiled = new RegExp(anchored, 'u');
  } catch {
    compiled = new RegExp(anchored);
  }
  patternCache.set(source, compiled);
  return compiled;
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is a single character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function issue(code: WireErrorCode, path: PathSegment[], describe: (path: string) => string): Issue {
  return { code, path, describe };
}

function invalid(describe: (path: string) => string): Issue {
  return issue('InvalidParameterException', [], describe);
}

function typeIssue(expected: string, value: unknown): Issue {
  return invalid(
    (p) => `Invalid type for parameter ${p}: expected ${expected}, got ${show(value)} (${typeName(value)})`,
  );
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** The value as JSON, shortened so a huge payload cannot bloat the error message. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN_VALUE ? `${text.slice(0, MAX_SHOWN_VALUE)}...` : text;
}

/** Renders innermost-first segments as `containerDefinitions[0].portMappings[1].containerPort`. */
function renderPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]!;
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string') out += out === '' ? segment : `.${segment}`;
    else if (segment.ofKey) out += ` (key ${JSON.stringify(segment.key)})`;
    else if (IDENTIFIER.test(segment.key)) out += out === '' ? segment.key : `.${segment.key}`;
    else out += `[${JSON.stringify(segment.key)}]`;
  }
  return out;
}
