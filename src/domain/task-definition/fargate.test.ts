import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FARGATE_SIZES, isValidFargateSize, validateForFargate, type FargateCheckInput } from './fargate.js';
import { assertEcsError, container } from './test-support.js';

const ok = (extra: Partial<FargateCheckInput> = {}): FargateCheckInput => ({
  networkMode: 'awsvpc',
  cpuUnits: 256,
  memoryMiB: 512,
  containerDefinitions: [container('app')],
  ...extra,
});

describe('Fargate size table', () => {
  it('has the documented memory choices at each cpu', () => {
    const at = (cpu: number) => FARGATE_SIZES.find((s) => s.cpu === cpu)!.memory;
    assert.deepEqual(at(256), [512, 1024, 2048]);
    assert.deepEqual(at(512), [1024, 2048, 3072, 4096]);
    assert.equal(at(1024).length, 7);
    assert.deepEqual([at(2048)[0], at(2048).at(-1)], [4096, 16384]);
    assert.deepEqual([at(4096)[0], at(4096).at(-1), at(4096).length], [8192, 30720, 23]);
    assert.deepEqual([at(8192)[0], at(8192)[1], at(8192).at(-1)], [16384, 20480, 61440]);
    assert.deepEqual([at(16384)[0], at(16384)[1], at(16384).at(-1)], [32768, 40960, 122880]);
  });
  it('accepts table pairs and rejects the rest', () => {
    assert.ok(isValidFargateSize(256, 2048));
    assert.ok(isValidFargateSize(1024, 5120));
    assert.ok(isValidFargateSize(8192, 20480));
    assert.ok(!isValidFargateSize(256, 4096));
    assert.ok(!isValidFargateSize(256, 1536));
    assert.ok(!isValidFargateSize(8192, 17408));
    assert.ok(!isValidFargateSize(300, 1024));
  });
});

describe('validateForFargate', () => {
  it('accepts a minimal awsvpc definition of a table size', () => {
    validateForFargate(ok());
  });
  it('requires awsvpc', () => {
    assertEcsError(
      () => validateForFargate(ok({ networkMode: 'bridge' })),
      'ClientException',
      /only supports network mode 'awsvpc'/,
    );
    assertEcsError(
      () => validateForFargate(ok({ networkMode: undefined })),
      'ClientException',
      /'awsvpc'.*not set/,
    );
  });
  it('requires task cpu and memory', () => {
    assertEcsError(
      () => validateForFargate(ok({ cpuUnits: undefined })),
      'ClientException',
      /'cpu' be defined at the task level/,
    );
    assertEcsError(
      () => validateForFargate(ok({ memoryMiB: undefined })),
      'ClientException',
      /'memory' be defined at the task level/,
    );
  });
  it('rejects sizes outside the table, saying what is allowed', () => {
    assertEcsError(
      () => validateForFargate(ok({ cpuUnits: 256, memoryMiB: 4096 })),
      'ClientException',
      /No Fargate configuration exists for given values: 256 CPU, 4096 memory.*one of 512, 1024, 2048/,
    );
    assertEcsError(
      () => validateForFargate(ok({ cpuUnits: 1024, memoryMiB: 9216 })),
      'ClientException',
      /2048-8192 in steps of 1024/,
    );
    assertEcsError(
      () => validateForFargate(ok({ cpuUnits: 384, memoryMiB: 1024 })),
      'ClientException',
      /Valid cpu values are 256, 512/,
    );
  });
  it('rejects placement constraints', () => {
    assertEcsError(
      () =>
        validateForFargate(
          ok({ placementConstraints: [{ type: 'memberOf', expression: 'attribute:x == y' }] }),
        ),
      'ClientException',
      /placement constraints/,
    );
    validateForFargate(ok({ placementConstraints: [] }));
  });
  it('rejects privileged containers by name', () => {
    assertEcsError(
      () => validateForFargate(ok({ containerDefinitions: [container('root', { privileged: true })] })),
      'ClientException',
      /privileged containers: container 'root'/,
    );
  });
  it('rejects host ports other than the container port', () => {
    assertEcsError(
      () =>
        validateForFargate(
          ok({
            containerDefinitions: [
              container('web', { portMappings: [{ containerPort: 80, hostPort: 8080 }] }),
            ],
          }),
        ),
      'ClientException',
      /container 'web' maps containerPort 80 to hostPort 8080/,
    );
    validateForFargate(
      ok({
        containerDefinitions: [container('web', { portMappings: [{ containerPort: 80, hostPort: 80 }] })],
      }),
    );
  });
  it('rejects host volumes with a sourcePath but allows bind mounts without one', () => {
    assertEcsError(
      () => validateForFargate(ok({ volumes: [{ name: 'data', host: { sourcePath: '/srv' } }] })),
      'ClientException',
      /sourcePath: volume 'data'/,
    );
    validateForFargate(ok({ volumes: [{ name: 'scratch', host: {} }] }));
  });
  it('rejects Docker volumes', () => {
    assertEcsError(
      () =>
        validateForFargate(ok({ volumes: [{ name: 'dv', dockerVolumeConfiguration: { driver: 'local' } }] })),
      'ClientException',
      /Docker volumes: volume 'dv'/,
    );
  });
  it('rejects host pid and any ipc mode', () => {
    assertEcsError(() => validateForFargate(ok({ pidMode: 'host' })), 'ClientException', /pidMode 'host'/);
    validateForFargate(ok({ pidMode: 'task' }));
    assertEcsError(() => validateForFargate(ok({ ipcMode: 'task' })), 'ClientException', /ipcMode/);
  });
  it('caps stopTimeout at 120 seconds', () => {
    validateForFargate(ok({ containerDefinitions: [container('a', { stopTimeout: 120 })] }));
    assertEcsError(
      () => validateForFargate(ok({ containerDefinitions: [container('a', { stopTimeout: 121 })] })),
      'ClientException',
      /stopTimeout of at most 120 seconds: container 'a'/,
    );
  });
});
