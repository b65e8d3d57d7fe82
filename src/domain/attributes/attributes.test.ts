import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EcsError } from '../errors.js';
import {
  countCustomAttributes,
  deleteAttributes,
  isBuiltInAttributeName,
  matchesAttributeFilter,
  putAttributes,
  toTargetedAttribute,
  validateAttribute,
} from './attributes.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof EcsError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
};

describe('validateAttribute', () => {
  it('accepts names of the allowed alphabet and values with spaces, colons, at signs', () => {
    validateAttribute({ name: 'stack/tier_1-a.b\\c', value: 'prod: eu@1 /x\\y' }, 'attributes[0]');
    validateAttribute({ name: 'a'.repeat(128), value: 'v'.repeat(128) }, 'attributes[0]');
    validateAttribute({ name: 'ecs.capability.docker-remote-api.1.17' }, 'attributes[0]');
  });
  it('rejects empty, too long and badly spelled names, naming the member', () => {
    assert.match(
      code(() => validateAttribute({ name: '' }, 'attributes[3]')),
      /^InvalidParameterException: attributes\[3\]\.name is required/,
    );
    assert.match(
      code(() => validateAttribute({ name: 'a'.repeat(129) }, 'x')),
      /at most 128/,
    );
    assert.match(
      code(() => validateAttribute({ name: 'has space' }, 'x')),
      /x\.name 'has space' is invalid/,
    );
    assert.match(
      code(() => validateAttribute({ name: 'colon:no' }, 'x')),
      /invalid/,
    );
  });
  it('rejects bad values: empty, too long, bad characters, leading or trailing space', () => {
    assert.match(
      code(() => validateAttribute({ name: 'n', value: '' }, 'x')),
      /x\.value must be 1-128/,
    );
    assert.match(
      code(() => validateAttribute({ name: 'n', value: 'v'.repeat(129) }, 'x')),
      /1-128/,
    );
    assert.match(
      code(() => validateAttribute({ name: 'n', value: 'a=b' }, 'x')),
      /x\.value 'a=b' is invalid/,
    );
    assert.match(
      code(() => validateAttribute({ name: 'n', value: ' a' }, 'x')),
      /start or end with a space/,
    );
    assert.match(
      code(() => validateAttribute({ name: 'n', value: 'a ' }, 'x')),
      /start or end with a space/,
    );
  });
});

describe('built-in and custom attributes', () => {
  it('treats ecs.* and com.amazonaws.ecs.* as built in', () => {
    assert.equal(isBuiltInAttributeName('ecs.os-type'), true);
    assert.equal(isBuiltInAttributeName('com.amazonaws.ecs.capability.logging-driver.json-file'), true);
    assert.equal(isBuiltInAttributeName('ecsfoo'), false);
    assert.equal(isBuiltInAttributeName('stack'), false);
    assert.equal(countCustomAttributes([{ name: 'ecs.os-type', value: 'linux' }, { name: 'stack' }]), 1);
  });
});

describe('putAttributes', () => {
  it('adds, replaces by name (a later entry wins) and sorts by name', () => {
    const out = putAttributes(
      [
        { name: 'zone', value: 'a' },
        { name: 'ecs.os-type', value: 'linux' },
      ],
      [
        { name: 'zone', value: 'b' },
        { name: 'app', value: 'x' },
        { name: 'app', value: 'y' },
      ],
    );
    assert.deepEqual(out, [
      { name: 'app', value: 'y' },
      { name: 'ecs.os-type', value: 'linux' },
      { name: 'zone', value: 'b' },
    ]);
  });
  it('allows 10 custom attributes besides any number of built-ins, not 11', () => {
    const builtIns = Array.from({ length: 15 }, (_, i) => ({ name: `ecs.capability.c${i}` }));
    const nine = Array.from({ length: 9 }, (_, i) => ({ name: `c${i}` }));
    const ten = putAttributes([...builtIns, ...nine], [{ name: 'c9' }]);
    assert.equal(countCustomAttributes(ten), 10);
    assert.equal(putAttributes(ten, [{ name: 'c0', value: 'replaced' }]).length, 25);
    assert.match(
      code(() => putAttributes(ten, [{ name: 'c10' }])),
      /^AttributeLimitExceededException: .*up to 10 custom attributes.*leave 11/,
    );
  });
});

describe('deleteAttributes', () => {
  it('removes by name and ignores names that are absent', () => {
    assert.deepEqual(deleteAttributes([{ name: 'a', value: '1' }, { name: 'b' }], ['a', 'zzz']), [
      { name: 'b' },
    ]);
  });
});

describe('ListAttributes helpers', () => {
  it('filters by name and by name and value', () => {
    const a = { name: 'ecs.os-type', value: 'linux' };
    assert.equal(matchesAttributeFilter(a, {}), true);
    assert.equal(matchesAttributeFilter(a, { attributeName: 'ecs.os-type' }), true);
    assert.equal(matchesAttributeFilter(a, { attributeName: 'ecs.os-type', attributeValue: 'linux' }), true);
    assert.equal(
      matchesAttributeFilter(a, { attributeName: 'ecs.os-type', attributeValue: 'windows' }),
      false,
    );
    assert.equal(matchesAttributeFilter(a, { attributeName: 'other' }), false);
  });
  it('answers with the target type and the instance ARN', () => {
    assert.deepEqual(toTargetedAttribute({ name: 'n' }, 'arn:x'), {
      name: 'n',
      targetType: 'container-instance',
      targetId: 'arn:x',
    });
  });
});
