// Container instance attributes: the naming rules, which names are built in (written by the
// agent at registration) and which are custom (written by PutAttributes), and the pure list
// edits PutAttributes / DeleteAttributes / RegisterContainerInstance apply to an instance.
//
// Rules (ECS API reference, `Attribute`):
// - name: 1–128 characters of letters, digits, `-`, `_`, `/`, `\`, `.`;
// - value (optional): 1–128 characters of letters, digits, `-`, `_`, `.`, `@`, `/`, `\`, `:`
//   and spaces, not starting or ending with a space;
// - at most 10 custom attributes per resource. Built-in attributes (`ecs.*` and
//   `com.amazonaws.ecs.*`: availability zone, instance type, capabilities...) do not count.
import type { Attribute } from '../../generated/ecs/types.js';
import { EcsError, invalidParameter } from '../errors.js';

export const MAX_CUSTOM_ATTRIBUTES = 10;
/** PutAttributes / DeleteAttributes take at most this many attributes per call. */
export const MAX_ATTRIBUTES_PER_CALL = 10;
export const MAX_ATTRIBUTE_NAME_LENGTH = 128;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 128;

const NAME_PATTERN = /^[A-Za-z0-9\-_/\\.]+$/;
const VALUE_PATTERN = /^[A-Za-z0-9\-_.@/\\: ]+$/;
const BUILT_IN_PREFIXES = ['ecs.', 'com.amazonaws.ecs.'] as const;

/** An attribute as a container instance record stores it: no target members. */
export interface InstanceAttribute {
  name: string;
  value?: string;
}

/** True for the attribute names ECS reserves for itself (set at registration, not by PutAttributes). */
export function isBuiltInAttributeName(name: string): boolean {
  return BUILT_IN_PREFIXES.some((p) => name.startsWith(p));
}

export function countCustomAttributes(attributes: readonly InstanceAttribute[]): number {
  return attributes.filter((a) => !isBuiltInAttributeName(a.name)).length;
}

/** Checks one attribute's name and value; `member` names it in the message (e.g. `attributes[2]`). */
export function validateAttribute(attribute: { name?: unknown; value?: unknown }, member: string): void {
  const { name, value } = attribute;
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidParameter(
      `${member}.name is required and must be 1-${MAX_ATTRIBUTE_NAME_LENGTH} characters.`,
    );
  }
  if (name.length > MAX_ATTRIBUTE_NAME_LENGTH) {
    throw invalidParameter(
      `${member}.name must be at most ${MAX_ATTRIBUTE_NAME_LENGTH} characters; got ${name.length}.`,
    );
  }
  if (!NAME_PATTERN.test(name)) {
    throw invalidParameter(
      `${member}.name '${name}' is invalid: it may contain only letters, numbers, hyphens, underscores, ` +
        'forward slashes, back slashes and periods.',
    );
  }
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ATTRIBUTE_VALUE_LENGTH) {
    throw invalidParameter(`${member}.value must be 1-${MAX_ATTRIBUTE_VALUE_LENGTH} characters.`);
  }
  if (!VALUE_PATTERN.test(value)) {
    throw invalidParameter(
      `${member}.value '${value}' is invalid: it may contain only letters, numbers, hyphens, underscores, ` +
        'periods, at signs, forward slashes, back slashes, colons and spaces.',
    );
  }
  if (value.startsWith(' ') || value.endsWith(' ')) {
    throw invalidParameter(`${member}.value must not start or end with a space.`);
  }
}

/** The stored form: name and value only, value left out when absent. */
export function toInstanceAttribute(a: { name: string; value?: string | undefined }): InstanceAttribute {
  return a.value === undefined || a.value === null ? { name: a.name } : { name: a.name, value: a.value };
}

/** Sorted by name, so a record's attribute list does not depend on the order of requests. */
export function sortAttributes(attributes: readonly InstanceAttribute[]): InstanceAttribute[] {
  return [...attributes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function attributeLimitExceeded(count: number): EcsError {
  return new EcsError(
    'AttributeLimitExceededException',
    `You can apply up to ${MAX_CUSTOM_ATTRIBUTES} custom attributes for each resource; ` +
      `this request would leave ${count}. Remove attributes with DeleteAttributes first.`,
  );
}

/**
 * Creates or replaces attributes by name (PutAttributes): a later entry for the same name wins.
 * Throws AttributeLimitExceededException when more than 10 custom attributes would result.
 */
export function putAttributes(
  existing: readonly InstanceAttribute[],
  toPut: readonly InstanceAttribute[],
): InstanceAttribute[] {
  const byName = new Map(existing.map((a) => [a.name, toInstanceAttribute(a)]));
  for (const a of toPut) byName.set(a.name, toInstanceAttribute(a));
  const next = sortAttributes([...byName.values()]);
  const custom = countCustomAttributes(next);
  if (custom > MAX_CUSTOM_ATTRIBUTES) throw attributeLimitExceeded(custom);
  return next;
}

/** Removes attributes by name (DeleteAttributes); names that are not present are ignored. */
export function deleteAttributes(
  existing: readonly InstanceAttribute[],
  names: readonly string[],
): InstanceAttribute[] {
  const drop = new Set(names);
  return sortAttributes(existing.filter((a) => !drop.has(a.name)).map(toInstanceAttribute));
}

/** Whether an attribute matches ListAttributes' optional name / value filter. */
export function matchesAttributeFilter(
  attribute: InstanceAttribute,
  filter: { attributeName?: string | undefined; attributeValue?: string | undefined },
): boolean {
  if (filter.attributeName !== undefined && attribute.name !== filter.attributeName) return false;
  if (filter.attributeValue !== undefined && attribute.value !== filter.attributeValue) return false;
  return true;
}

/** The Attribute wire shape ListAttributes answers with. */
export function toTargetedAttribute(a: InstanceAttribute, targetArn: string): Attribute {
  return { ...toInstanceAttribute(a), targetType: 'container-instance', targetId: targetArn };
}
