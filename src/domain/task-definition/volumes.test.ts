import { describe, it } from 'node:test';
import { validateVolumes } from './volumes.js';
import { assertEcsError, container } from './test-support.js';

describe('validateVolumes', () => {
  it('accepts mounts of declared volumes and volumesFrom other containers', () => {
    validateVolumes(
      [{ name: 'data', host: { sourcePath: '/srv' } }, { name: 'scratch' }],
      [
        container('app', { mountPoints: [{ sourceVolume: 'data', containerPath: '/data', readOnly: true }] }),
        container('side', {
          volumesFrom: [{ sourceContainer: 'app' }],
          mountPoints: [{ sourceVolume: 'scratch', containerPath: '/tmp/x' }],
        }),
      ],
    );
  });
  it('requires volume names of the name alphabet', () => {
    assertEcsError(() => validateVolumes([{}], []), 'ClientException', /volumes\[0\]\.name is required/);
    assertEcsError(
      () => validateVolumes([{ name: 'bad name' }], []),
      'ClientException',
      /Volume name 'bad name' is invalid/,
    );
    assertEcsError(
      () => validateVolumes([{ name: 'x'.repeat(256) }], []),
      'ClientException',
      /is invalid: up to 255/,
    );
  });
  it('rejects duplicate volume names', () => {
    assertEcsError(
      () => validateVolumes([{ name: 'd' }, { name: 'd' }], []),
      'ClientException',
      /Duplicate volume name 'd'/,
    );
  });
  it('rejects a mountPoint on an undeclared volume, naming container and volume', () => {
    assertEcsError(
      () =>
        validateVolumes(
          [{ name: 'data' }],
          [container('app', { mountPoints: [{ sourceVolume: 'logs', containerPath: '/l' }] })],
        ),
      'ClientException',
      /container 'app': sourceVolume 'logs' is not a volume/,
    );
  });
  it('requires sourceVolume and containerPath on a mountPoint', () => {
    assertEcsError(
      () =>
        validateVolumes([{ name: 'data' }], [container('app', { mountPoints: [{ containerPath: '/d' }] })]),
      'ClientException',
      /container 'app': sourceVolume is required/,
    );
    assertEcsError(
      () =>
        validateVolumes([{ name: 'data' }], [container('app', { mountPoints: [{ sourceVolume: 'data' }] })]),
      'ClientException',
      /containerPath is required for volume 'data'/,
    );
  });
  it('rejects volumesFrom an unknown container or itself', () => {
    assertEcsError(
      () => validateVolumes([], [container('app', { volumesFrom: [{ sourceContainer: 'ghost' }] })]),
      'ClientException',
      /container 'app': no container named 'ghost'/,
    );
    assertEcsError(
      () => validateVolumes([], [container('app', { volumesFrom: [{ sourceContainer: 'app' }] })]),
      'ClientException',
      /cannot mount its own volumes/,
    );
    assertEcsError(
      () => validateVolumes([], [container('app', { volumesFrom: [{}] })]),
      'ClientException',
      /sourceContainer is required/,
    );
  });
});
