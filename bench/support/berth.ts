// The setting every Berth bench shares: the busybox test image built, a fresh `berth up` (own data
// dir, task subnet and network), an ECS client pointed at it, and afterwards everything removed,
// including the containers carrying the run's label, whatever happened in between.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { ecsClient } from '../../test/support/berth-process.js';
import { ensureBusyboxImage } from '../../test/support/images.js';
import { startBerthUp, type UpProcess } from '../../test/up/up-process.js';

export const run = promisify(execFile);

/** `key=value` unique to this run of a bench; put it on every container the bench makes. */
export function newRunLabel(): { key: string; value: string; label: string } {
  const key = 'org.berth.bench.run';
  const value = randomBytes(4).toString('hex');
  return { key, value, label: `${key}=${value}` };
}

/** Removes (force) every container, running or not, that carries `label` (`key=value`). */
export async function removeContainersLabelled(label: string): Promise<void> {
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=${label}`], {
    timeout: 60_000,
  }).catch(() => ({ stdout: '' }));
  const left = stdout.split('\n').filter(Boolean);
  if (left.length) await run('docker', ['rm', '-f', ...left], { timeout: 300_000 }).catch(() => undefined);
}

/** Runs `fn` against a fresh `berth up`; stops and cleans it and removes `runLabel`'s containers after. */
export async function withBerthUp<T>(
  runLabel: string,
  fn: (ecs: ECSClient, up: UpProcess) => Promise<T>,
): Promise<T> {
  await ensureBusyboxImage();
  const up = await startBerthUp();
  const ecs = ecsClient(up.url);
  try {
    return await fn(ecs, up);
  } finally {
    ecs.destroy();
    await up.stop();
    await up.cleanup();
    await removeContainersLabelled(runLabel);
  }
}
