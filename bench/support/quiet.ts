// Waiting for the machine to go quiet before a measured phase. What one phase leaves behind
// (the kernel tearing down the namespaces of stopped containers, dockerd removing them) would
// otherwise be billed to whichever side runs next. Busy time is read from /proc/stat, not
// from the load average: the load average counts tasks waiting on I/O and lags by a minute.
import { readFileSync } from 'node:fs';
import { sleep } from './bounds.js';

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes | undefined {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return undefined; // not Linux: nothing to wait for
  }
  const f = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface QuietResult {
  /** How long the wait took. */
  waitedMs: number;
  /** Busy share of the CPUs over the last sample (0..1). */
  busy: number;
  /** False when the bound ran out first: the phase ran on a busy machine. */
  quiet: boolean;
}

/**
 * Waits until the CPUs were less than `maxBusy` busy over `samples` consecutive windows of
 * `windowMs`, for at most `timeoutMs`.
 */
export async function waitForQuiet(
  opts: { maxBusy?: number; windowMs?: number; samples?: number; timeoutMs?: number } = {},
): Promise<QuietResult> {
  const maxBusy = opts.maxBusy ?? 0.1;
  const windowMs = opts.windowMs ?? 500;
  const samples = opts.samples ?? 2;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const start = Date.now();
  let prev = cpuTimes();
  if (!prev) return { waitedMs: 0, busy: 0, quiet: true };
  let calm = 0;
  let busy = 1;
  while (Date.now() - start < timeoutMs) {
    await sleep(windowMs);
    const now = cpuTimes();
    if (!now) break;
    const dt = now.total - prev.total;
    busy = dt > 0 ? (now.busy - prev.busy) / dt : 0;
    prev = now;
    calm = busy < maxBusy ? calm + 1 : 0;
    if (calm >= samples) return { waitedMs: Date.now() - start, busy, quiet: true };
  }
  return { waitedMs: Date.now() - start, busy, quiet: false };
}
