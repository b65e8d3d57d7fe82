import { describe, it } from 'node:test';
import { validateTags } from './tags.js';
import { assertEcsError } from './task-definition/test-support.js';

describe('validateTags', () => {
  it('accepts no tags, empty values and the full tag alphabet', () => {
    validateTags(undefined);
    validateTags([]);
    validateTags([
      { key: 'env', value: '' },
      { key: 'owner' },
      { key: 'a_b.c:d/e=f+g-h@i j', value: 'Ünïcode 42' },
    ]);
  });
  it('accepts 50 tags and rejects 51', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    validateTags(many(50));
    assertEcsError(() => validateTags(many(51)), 'InvalidParameterException', /at most 50 tags; got 51/);
  });
  it('requires a key of 1-128 characters', () => {
    assertEcsError(
      () => validateTags([{ value: 'v' }]),
      'InvalidParameterException',
      /tags\[0\]\.key is required/,
    );
    assertEcsError(() => validateTags([{ key: '' }]), 'InvalidParameterException', /key is required/);
    validateTags([{ key: 'k'.repeat(128) }]);
    assertEcsError(
      () => validateTags([{ key: 'k'.repeat(129) }]),
      'InvalidParameterException',
      /at most 128 characters/,
    );
  });
  it('counts characters, not UTF-16 units', () => {
    validateTags([{ key: '𝔸'.repeat(128) }]);
  });
  it('limits values to 256 characters', () => {
    validateTags([{ key: 'k', value: 'v'.repeat(256) }]);
    assertEcsError(
      () => validateTags([{ key: 'k', value: 'v'.repeat(257) }]),
      'InvalidParameterException',
      /value for key 'k' is too long/,
    );
  });
  it('rejects characters outside the tag alphabet', () => {
    assertEcsError(
      () => validateTags([{ key: 'a*b' }]),
      'InvalidParameterException',
      /Tag key 'a\*b' contains invalid characters/,
    );
    assertEcsError(
      () => validateTags([{ key: 'k', value: 'x#y' }]),
      'InvalidParameterException',
      /value for key 'k' contains invalid/,
    );
  });
  it('reserves the aws: prefix in any case', () => {
    for (const key of ['aws:x', 'AWS:x', 'Aws:cloudformation:stack']) {
      assertEcsError(() => validateTags([{ key }]), 'InvalidParameterException', /reserved prefix 'aws:'/);
    }
    validateTags([{ key: 'awsx' }, { key: 'my-aws:x' }]);
  });
  it('rejects duplicate keys', () => {
    assertEcsError(
      () =>
        validateTags([
          { key: 'a', value: '1' },
          { key: 'a', value: '2' },
        ]),
      'InvalidParameterException',
      /Duplicate tag key 'a'/,
    );
  });
});
