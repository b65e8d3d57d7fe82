// Resource tag rules shared by every taggable resource (RegisterTaskDefinition, CreateCluster,
// TagResource, ...): at most 50 per resource, key 1-128 and value 0-256 characters of the ECS
// tag alphabet, keys unique, and the `aws:` prefix (any case) reserved for AWS.
import type { Tag } from '../generated/ecs/types.js';
import { invalidParameter } from './errors.js';

export const MAX_TAGS = 50;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;

/** The model's TagKey/TagValue pattern: letters, separators (spaces), numbers and _ . : / = + - @. */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const RESERVED_PREFIX = /^aws:/i;

/** Lengths count characters (code points), as AWS does, not UTF-16 units. */
const charLength = (s: string): number => [...s].length;

/** Throws InvalidParameterException naming the offending tag and rule. */
export function validateTags(tags: readonly Tag[] | undefined): void {
  if (tags === undefined) return;
  if (tags.length > MAX_TAGS) {
    throw invalidParameter(
      `Too many tags: a resource can have at most ${MAX_TAGS} tags; got ${tags.length}.`,
    );
  }
  const seen = new Set<string>();
  for (const [i, tag] of tags.entries()) {
    const key = tag.key;
    if (key === undefined || key === '')
      throw invalidParameter(`tags[${i}].key is required and cannot be empty.`);
    if (charLength(key) > MAX_TAG_KEY_LENGTH) {
      throw invalidParameter(`Tag key '${key}' is too long: at most ${MAX_TAG_KEY_LENGTH} characters.`);
    }
    if (!TAG_CHARS.test(key)) {
      throw invalidParameter(
        `Tag key '${key}' contains invalid characters: use letters, numbers, spaces and _ . : / = + - @ only.`,
      );
    }
    if (RESERVED_PREFIX.test(key)) {
      throw invalidParameter(`Tag key '${key}' uses the reserved prefix 'aws:'; it is for AWS use only.`);
    }
    const value = tag.value ?? '';
    if (charLength(value) > MAX_TAG_VALUE_LENGTH) {
      throw invalidParameter(
        `Tag value for key '${key}' is too long: at most ${MAX_TAG_VALUE_LENGTH} characters.`,
      );
    }
    if (!TAG_CHARS.test(value)) {
      throw invalidParameter(
        `Tag value for key '${key}' contains invalid characters: use letters, numbers, spaces and _ . : / = + - @ only.`,
      );
    }
    if (seen.has(key)) throw invalidParameter(`Duplicate tag key '${key}': each key can appear only once.`);
    seen.add(key);
  }
}
