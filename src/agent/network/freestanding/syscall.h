/*
 * What the agent's freestanding x86_64 programs (netwait, netplumb) share in place of a libc:
 * raw system calls, exit, and strlen. Included by each program's single .c file.
 */
#ifndef BERTH_FREESTANDING_SYSCALL_H
#define BERTH_FREESTANDING_SYSCALL_H

typedef unsigned long size_t;

#define SYS_exit 60

static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

static long sys4(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall"
                   : "=a"(r)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return r;
}

static __attribute__((noreturn)) void quit(int code) {
  for (;;) sys3(SYS_exit, code, 0, 0);
}

static size_t len(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

#endif
