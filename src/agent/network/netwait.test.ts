// netwait's rules, and the generated program itself, run on this machine (x86_64 Linux).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentTask } from '../../domain/agent-protocol.js';
import {
  canHoldOwnNetwork,
  effectiveArgv,
  installNetwait,
  netwaitEntryPoint,
  netwaitProgram,
} from './netwait.js';

describe('effectiveArgv: what Docker would run', () => {
  it("the definition's entryPoint replaces the image's and drops the image's command", () => {
    assert.deepEqual(
      effectiveArgv(
        { entryPoint: ['sh', '-c'], command: ['echo hi'] },
        { entryPoint: ['/init'], command: ['serve'] },
      ),
      ['sh', '-c', 'echo hi'],
    );
    assert.deepEqual(effectiveArgv({ entryPoint: ['/bin/app'] }, { command: ['serve'] }), ['/bin/app']);
  });

  it("the definition's command replaces the image's command behind the image's entrypoint", () => {
    assert.deepEqual(
      effectiveArgv({ command: ['run', '-v'] }, { entryPoint: ['/init'], command: ['serve'] }),
      ['/init', 'run', '-v'],
    );
    assert.deepEqual(effectiveArgv({}, { entryPoint: ['/init'], command: ['serve'] }), ['/init', 'serve']);
    assert.deepEqual(effectiveArgv({ command: [] }, { command: ['serve'] }), ['serve']);
  });

  it('nothing to run is refused as Docker words it', () => {
    assert.throws(() => effectiveArgv({}, {}), /No command specified/);
  });

  it('the entrypoint waits on the ready file, then runs the argv', () => {
    assert.deepEqual(netwaitEntryPoint(['sleep', '1']), [
      '/.berth/netwait',
      '/.berth/net/ready',
      'sleep',
      '1',
    ]);
  });
});

describe('canHoldOwnNetwork', () => {
  const task = (td: Partial<AgentTask['taskDefinition']>): AgentTask =>
    ({ taskDefinition: { containerDefinitions: [{ name: 'a' }], ...td } }) as unknown as AgentTask;
  it('one container without pid/ipc mode task: yes; otherwise the pause container stays', () => {
    assert.equal(canHoldOwnNetwork(task({})), true);
    assert.equal(canHoldOwnNetwork(task({ containerDefinitions: [{ name: 'a' }, { name: 'b' }] })), false);
    assert.equal(canHoldOwnNetwork(task({ pidMode: 'task' })), false);
    assert.equal(canHoldOwnNetwork(task({ ipcMode: 'task' })), false);
  });
});

const program = netwaitProgram();

/** Runs `fn` with netwait installed in a fresh directory, removed afterwards. */
async function withInstalled(fn: (dir: string, bin: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-netwait-'));
  try {
    await fn(dir, await installNetwait(dir, program!));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(
  args: string[],
  env: Record<string, string> = { PATH: '/usr/bin:/bin' },
): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(args[0]!, args.slice(1), { env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? -1 : null), out, err })),
  );
  return { child, done };
}

describe(
  'the netwait program',
  { skip: program === undefined ? 'only built for x86_64 Linux' : false },
  () => {
    it('is installed read-only and executable, once', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'berth-netwait-'));
      try {
        const path = await installNetwait(dir, program!);
        assert.equal(statSync(path).mode & 0o777, 0o555);
        const again = await installNetwait(dir, program!);
        assert.equal(again, path);
        assert.deepEqual(readFileSync(path), program);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('waits for the ready file, then becomes the program found in PATH, with its arguments and environment', async () => {
      await withInstalled(async (dir, bin) => {
        const ready = join(dir, 'ready');
        const started = Date.now();
        const p = run(
          [bin, ready, 'sh', '-c', 'echo "$0 $1 $MARK"; grep SigBlk /proc/self/status', 'one', 'two'],
          {
            PATH: '/nonexistent:/usr/bin:/bin',
            MARK: 'kept',
          },
        );
        setTimeout(() => writeFileSync(ready, ''), 150);
        const r = await p.done;
        assert.equal(r.code, 0, r.err);
        assert.ok(Date.now() - started >= 140, 'it waited for the file');
        assert.match(r.out, /^one two kept$/m);
        assert.match(r.out, /SigBlk:\s+0+$/m, 'the program starts with no signal blocked');
      });
    });

    it('sleeps while it waits (no polling), and wakes on the file or a signal', async () => {
      await withInstalled(async (dir, bin) => {
        const ready = join(dir, 'ready');
        const p = run([bin, ready, 'true']);
        await new Promise((r) => setTimeout(r, 500));
        const status = readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
        const switches = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]);
        // Polling every millisecond made hundreds of switches in this time.
        assert.ok(switches < 20, `${switches} context switches while waiting half a second`);
        writeFileSync(ready, '');
        assert.equal((await p.done).code, 0);

        const interrupted = run([bin, join(dir, 'never'), 'true']);
        setTimeout(() => interrupted.child.kill('SIGINT'), 100);
        assert.equal((await interrupted.done).code, 130);
      });
    });

    it('waits for a file in a directory made later (polling, as there is nothing to watch yet)', async () => {
      await withInstalled(async (dir, bin) => {
        const later = join(dir, 'later');
        const p = run([bin, join(later, 'ready'), 'true']);
        setTimeout(() => {
          mkdirSync(later);
          writeFileSync(join(later, 'ready'), '');
        }, 150);
        assert.equal((await p.done).code, 0);
        const stopped = run([bin, join(dir, 'missing', 'ready'), 'true']);
        setTimeout(() => stopped.child.kill('SIGTERM'), 100);
        assert.equal((await stopped.done).code, 143);
      });
    });

    it('a program it cannot find exits 127 with the reason; SIGTERM while waiting ends it at once (143)', async () => {
      await withInstalled(async (dir, bin) => {
        writeFileSync(join(dir, 'ready'), '');
        const missing = await run([bin, join(dir, 'ready'), 'no-such-program']).done;
        assert.equal(missing.code, 127);
        assert.match(missing.err, /executable file not found in \$PATH: no-such-program/);
        const usage = await run([bin, join(dir, 'ready')]).done;
        assert.equal(usage.code, 125);

        const waiting = run([bin, join(dir, 'never'), 'true']);
        setTimeout(() => waiting.child.kill('SIGTERM'), 100);
        const r = await waiting.done;
        assert.equal(r.code, 143);
      });
    });
  },
);
