import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerInstanceIdFromUuid, ec2LikeInstanceIdFromUuid, isContainerInstanceIdRef } from './ids.js';

describe('container instance ids', () => {
  it('turns a uuid into 32 lower-case hex characters', () => {
    assert.equal(
      containerInstanceIdFromUuid('0E8E2A3C-1B2D-4F5A-8B9C-0D1E2F3A4B5C'),
      '0e8e2a3c1b2d4f5a8b9c0d1e2f3a4b5c',
    );
  });
  it('refuses what is not a uuid', () => {
    assert.throws(() => containerInstanceIdFromUuid('not-a-uuid'), /expected a uuid/);
  });
  it('makes EC2-like ids of i- and 17 hex characters', () => {
    assert.match(ec2LikeInstanceIdFromUuid('0e8e2a3c-1b2d-4f5a-8b9c-0d1e2f3a4b5c'), /^i-[0-9a-f]{17}$/);
    assert.equal(ec2LikeInstanceIdFromUuid('0e8e2a3c-1b2d-4f5a-8b9c-0d1e2f3a4b5c'), 'i-0e8e2a3c1b2d4f5a8');
  });
  it('accepts hex and uuid ids as references, not paths or empty strings', () => {
    assert.equal(isContainerInstanceIdRef('0e8e2a3c1b2d4f5a8b9c0d1e2f3a4b5c'), true);
    assert.equal(isContainerInstanceIdRef('1c3be8ed-df30-47b4-8f1e-6e68ebd01f34'), true);
    assert.equal(isContainerInstanceIdRef('a/b'), false);
    assert.equal(isContainerInstanceIdRef(''), false);
  });
});
