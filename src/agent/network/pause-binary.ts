// The awsvpc pause container's only program, written here as machine code so that the agent can
// build its `berth/pause` image on any host without a compiler, a registry or a busybox on disk.
// It blocks SIGINT and SIGTERM, waits for one of them with rt_sigtimedwait and exits 0: a
// `docker stop` ends it at once even though it is PID 1 (which ignores unhandled signals).
//
//   x86_64 (assembled with GNU as; verified by the unit test, which runs it):
//     push 0x4002                ; sigset {SIGINT, SIGTERM} on the stack
//     mov eax, 14                ; rt_sigprocmask(SIG_BLOCK, rsp, NULL, 8)
//     xor edi, edi ; mov rsi, rsp ; xor edx, edx ; mov r10d, 8 ; syscall
//   wait:
//     mov eax, 128               ; rt_sigtimedwait(rsp, NULL, NULL, 8)
//     mov rdi, rsp ; xor esi, esi ; xor edx, edx ; mov r10d, 8 ; syscall
//     test rax, rax ; js wait    ; EINTR and friends: wait again
//     mov eax, 60 ; xor edi, edi ; syscall   ; exit(0)
//
//   aarch64 (hand-encoded, same steps; syscalls 135 rt_sigprocmask, 137 rt_sigtimedwait,
//   93 exit). Not runnable on the x86_64 machines Berth is tested on; its encoding is checked by
//   the unit test against the instruction formats.

const X86_64_CODE = Buffer.from(
  '6802400000' + // push 0x4002
    'b80e00000031ff4889e631d241ba080000000f05' + // rt_sigprocmask
    'b8800000004889e731f631d241ba080000000f05' + // wait: rt_sigtimedwait
    '4885c078e7' + // test rax, rax ; js wait
    'b83c00000031ff0f05', // exit(0)
  'hex',
);

/** aarch64 instructions, little-endian words. */
export const AARCH64_WORDS = [
  0xd2880040, // movz x0, #0x4002
  0xf81f0fe0, // str  x0, [sp, #-16]!
  0xd2800000, // movz x0, #0        (SIG_BLOCK)
  0x910003e1, // mov  x1, sp
  0xd2800002, // movz x2, #0
  0xd2800103, // movz x3, #8
  0xd28010e8, // movz x8, #135      (rt_sigprocmask)
  0xd4000001, // svc  #0
  0x910003e0, // wait: mov x0, sp
  0xd2800001, // movz x1, #0
  0xd2800002, // movz x2, #0
  0xd2800103, // movz x3, #8
  0xd2801128, // movz x8, #137      (rt_sigtimedwait)
  0xd4000001, // svc  #0
  0xb7ffff40, // tbnz x0, #63, wait (negative return: wait again)
  0xd2800000, // movz x0, #0
  0xd2800ba8, // movz x8, #93       (exit)
  0xd4000001, // svc  #0
] as const;

function aarch64Code(): Buffer {
  const b = Buffer.alloc(AARCH64_WORDS.length * 4);
  AARCH64_WORDS.forEach((w, i) => b.writeUInt32LE(w, i * 4));
  return b;
}

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const BASE = 0x400000;

/** A static ELF64 executable: one PT_LOAD segment holding the headers and the code. */
export function buildElf(machine: 'x86_64' | 'aarch64'): Buffer {
  const code = machine === 'x86_64' ? X86_64_CODE : aarch64Code();
  const codeOffset = EHDR_SIZE + PHDR_SIZE;
  const total = codeOffset + code.length;
  const b = Buffer.alloc(total);
  // e_ident: magic, 64-bit, little-endian, version 1, System V ABI.
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 2;
  b[5] = 1;
  b[6] = 1;
  b.writeUInt16LE(2, 16); // e_type: ET_EXEC
  b.writeUInt16LE(machine === 'x86_64' ? 62 : 183, 18); // e_machine: EM_X86_64 / EM_AARCH64
  b.writeUInt32LE(1, 20); // e_version
  b.writeBigUInt64LE(BigInt(BASE + codeOffset), 24); // e_entry
  b.writeBigUInt64LE(BigInt(EHDR_SIZE), 32); // e_phoff
  b.writeBigUInt64LE(0n, 40); // e_shoff: no sections
  b.writeUInt32LE(0, 48); // e_flags
  b.writeUInt16LE(EHDR_SIZE, 52); // e_ehsize
  b.writeUInt16LE(PHDR_SIZE, 54); // e_phentsize
  b.writeUInt16LE(1, 56); // e_phnum
  b.writeUInt16LE(0, 58); // e_shentsize
  b.writeUInt16LE(0, 60); // e_shnum
  b.writeUInt16LE(0, 62); // e_shstrndx
  const ph = EHDR_SIZE;
  b.writeUInt32LE(1, ph); // p_type: PT_LOAD
  b.writeUInt32LE(5, ph + 4); // p_flags: R + X
  b.writeBigUInt64LE(0n, ph + 8); // p_offset
  b.writeBigUInt64LE(BigInt(BASE), ph + 16); // p_vaddr
  b.writeBigUInt64LE(BigInt(BASE), ph + 24); // p_paddr
  b.writeBigUInt64LE(BigInt(total), ph + 32); // p_filesz
  b.writeBigUInt64LE(BigInt(total), ph + 40); // p_memsz
  b.writeBigUInt64LE(0x1000n, ph + 48); // p_align
  code.copy(b, codeOffset);
  return b;
}

/** The ELF machine for Docker's architecture name, or undefined when this agent has no pause binary for it. */
export function elfMachineFor(dockerArch: string): 'x86_64' | 'aarch64' | undefined {
  if (dockerArch === 'amd64' || dockerArch === 'x86_64') return 'x86_64';
  if (dockerArch === 'arm64' || dockerArch === 'aarch64') return 'aarch64';
  return undefined;
}
