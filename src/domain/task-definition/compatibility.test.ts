import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { externalIncompatibility, resolveCompatibilities, type CompatibilityInput } from './compatibility.js';
import { assertEcsError, container } from './test-support.js';

const def = (extra: Partial<CompatibilityInput> = {}): CompatibilityInput => ({
  containerDefinitions: [container('a')],
  ...extra,
});
const fargate = (extra: Partial<CompatibilityInput> = {}): CompatibilityInput =>
  def({
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpuUnits: 256,
    memoryMiB: 512,
    ...extra,
  });

describe('resolveCompatibilities', () => {
  it('lists EC2 and EXTERNAL for a plain bridge definition', () => {
    assert.deepEqual(resolveCompatibilities(def()), ['EC2', 'EXTERNAL']);
    assert.deepEqual(resolveCompatibilities(def({ requiresCompatibilities: ['EC2'], networkMode: 'host' })), [
      'EC2',
      'EXTERNAL',
    ]);
  });
  it('lists only EC2 for awsvpc without FARGATE', () => {
    assert.deepEqual(resolveCompatibilities(def({ networkMode: 'awsvpc' })), ['EC2']);
  });
  it('adds FARGATE when required and valid', () => {
    assert.deepEqual(resolveCompatibilities(fargate()), ['EC2', 'FARGATE']);
  });
  it('does not add FARGATE unasked, even when the definition would fit', () => {
    assert.deepEqual(resolveCompatibilities(fargate({ requiresCompatibilities: undefined })), ['EC2']);
  });
  it('applies the Fargate rules when FARGATE is required', () => {
    assertEcsError(
      () => resolveCompatibilities(fargate({ memoryMiB: 4096 })),
      'ClientException',
      /No Fargate configuration/,
    );
    assertEcsError(
      () => resolveCompatibilities(fargate({ networkMode: 'bridge' })),
      'ClientException',
      /awsvpc/,
    );
  });
  it('rejects EXTERNAL required with awsvpc or EFS volumes', () => {
    assertEcsError(
      () => resolveCompatibilities(def({ requiresCompatibilities: ['EXTERNAL'], networkMode: 'awsvpc' })),
      'ClientException',
      /does not support launch_type EXTERNAL: networkMode 'awsvpc'/,
    );
    assertEcsError(
      () =>
        resolveCompatibilities(
          def({
            requiresCompatibilities: ['EXTERNAL'],
            volumes: [{ name: 'efs', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }],
          }),
        ),
      'ClientException',
      /volume 'efs' uses EFS/,
    );
    assert.deepEqual(resolveCompatibilities(def({ requiresCompatibilities: ['EXTERNAL'] })), [
      'EC2',
      'EXTERNAL',
    ]);
  });
  it('adds MANAGED_INSTANCES only when required', () => {
    assert.deepEqual(
      resolveCompatibilities(def({ requiresCompatibilities: ['MANAGED_INSTANCES'], networkMode: 'awsvpc' })),
      ['EC2', 'MANAGED_INSTANCES'],
    );
  });
});

describe('externalIncompatibility', () => {
  it('is undefined for bridge, host and none', () => {
    for (const networkMode of [undefined, 'bridge', 'host', 'none'] as const)
      assert.equal(externalIncompatibility(def({ networkMode })), undefined);
  });
  it('names FSx volumes', () => {
    const v = {
      name: 'share',
      fsxWindowsFileServerVolumeConfiguration: {
        fileSystemId: 'fs-1',
        rootDirectory: '/',
        authorizationConfig: { credentialsParameter: 'p', domain: 'd' },
      },
    };
    assert.match(externalIncompatibility(def({ volumes: [v] }))!, /volume 'share'/);
  });
});
