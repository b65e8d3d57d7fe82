import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AARCH64_WORDS, buildElf, elfMachineFor } from './pause-binary.js';
import { tarFiles } from './pause-image.js';

describe('pause ELF', () => {
  it('has a valid ELF64 header with one loadable segment', () => {
    for (const m of ['x86_64', 'aarch64'] as const) {
      const b = buildElf(m);
      assert.equal(b.subarray(0, 4).toString('latin1'), '\x7fELF');
      assert.equal(b[4], 2, 'ELFCLASS64');
      assert.equal(b.readUInt16LE(18), m === 'x86_64' ? 62 : 183);
      const entry = Number(b.readBigUInt64LE(24));
      assert.equal(entry, 0x400000 + 120);
      assert.equal(b.readUInt16LE(56), 1);
      assert.equal(Number(b.readBigUInt64LE(64 + 32)), b.length, 'the segment covers the whole file');
    }
  });

  it(
    'runs until SIGTERM and then exits 0 (on x86_64 Linux)',
    { skip: platform() !== 'linux' || arch() !== 'x64' ? 'needs x86_64 Linux' : false },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'berth-pause-'));
      try {
        const file = join(dir, 'pause');
        writeFileSync(file, buildElf('x86_64'));
        chmodSync(file, 0o755);
        const child = spawn(file, [], { stdio: 'ignore' });
        const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
          child.once('exit', (code, signal) => r({ code, signal })),
        );
        // Still running after a while: it waits rather than exiting or crashing.
        const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 200))]);
        assert.equal(early, 'running');
        child.kill('SIGTERM');
        const result = await Promise.race([
          exited,
          new Promise<never>((_, rej) =>
            setTimeout(() => rej(new Error('pause did not exit on SIGTERM')), 5000),
          ),
        ]);
        assert.deepEqual(result, { code: 0, signal: null });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('encodes the aarch64 program as the instruction formats say', () => {
    const movz = (rd: number, imm: number): number => (0xd2800000 | (imm << 5) | rd) >>> 0;
    assert.equal(AARCH64_WORDS[0], movz(0, 0x4002));
    assert.equal(AARCH64_WORDS[6], movz(8, 135));
    assert.equal(AARCH64_WORDS[12], movz(8, 137));
    assert.equal(AARCH64_WORDS[16], movz(8, 93));
    // tbnz x0, #63 back to `wait` (word 8) from word 14: b5=1, b40=31, imm14 = -6.
    const tbnz = (0x80000000 | 0x37000000 | (31 << 19) | ((-6 & 0x3fff) << 5) | 0) >>> 0;
    assert.equal(AARCH64_WORDS[14], tbnz);
    assert.equal(AARCH64_WORDS.filter((w) => w === 0xd4000001).length, 3, 'three syscalls');
  });

  it('maps Docker architectures', () => {
    assert.equal(elfMachineFor('amd64'), 'x86_64');
    assert.equal(elfMachineFor('arm64'), 'aarch64');
    assert.equal(elfMachineFor('s390x'), undefined);
  });
});

describe('tarFiles', () => {
  it('writes a ustar header with size, mode and a correct checksum', () => {
    const data = Buffer.from('hello');
    const t = tarFiles([{ name: 'pause', mode: 0o755, data }]);
    assert.equal(t.length % 512, 0);
    assert.equal(t.subarray(0, 5).toString(), 'pause');
    assert.equal(parseInt(t.subarray(124, 135).toString(), 8), 5);
    assert.equal(parseInt(t.subarray(100, 107).toString(), 8), 0o755);
    assert.equal(t.subarray(257, 262).toString(), 'ustar');
    const header = Buffer.from(t.subarray(0, 512));
    const stored = parseInt(header.subarray(148, 154).toString(), 8);
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    assert.equal(stored, sum);
    assert.equal(t.subarray(512, 517).toString(), 'hello');
  });
});
