// Shared by the task definition unit tests: a minimal valid container and an assertion that a
// call fails with a given ECS error code and message.
import assert from 'node:assert/strict';
import type { ContainerDefinition } from '../../generated/ecs/types.js';
import { isEcsError, type WireErrorCode } from '../errors.js';

export function container(name: string, extra: Partial<ContainerDefinition> = {}): ContainerDefinition {
  return { name, image: 'busybox', memory: 64, ...extra };
}

export function assertEcsError(fn: () => unknown, code: WireErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isEcsError(e), `expected an EcsError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}
