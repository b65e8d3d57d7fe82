/*
 * netwait: the first program of an awsvpc container whose network namespace the agent plumbs
 * after the container has started (a single-container task needs no pause container then). It
 * waits until the agent has created the ready file, then becomes the task's own program:
 *
 *   netwait <ready-file> <program> [args...]
 *
 * <program> is looked up in $PATH as Docker would (execvp); the environment is passed unchanged.
 * Without the ready file after 60 s it exits 125, and 127 when the program cannot be run. While
 * it waits, SIGTERM or SIGINT ends it at once (143 / 130): as PID 1 it would otherwise ignore them
 * and `docker stop` would wait for its timeout. The program starts with no signal blocked.
 * Freestanding (no libc): built by scripts/gen-netwait.sh into netwait-binary.ts.
 */
typedef unsigned long size_t;

#define SYS_write 1
#define SYS_rt_sigprocmask 14
#define SYS_access 21
#define SYS_rt_sigtimedwait 128
#define SYS_execve 59
#define SYS_exit 60
#define ENOENT 2
#define EACCES 13

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

static size_t len(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static void say(const char *a, const char *b) {
  sys3(SYS_write, 2, (long)"netwait: ", 9);
  sys3(SYS_write, 2, (long)a, (long)len(a));
  if (b) sys3(SYS_write, 2, (long)b, (long)len(b));
  sys3(SYS_write, 2, (long)"\n", 1);
}

static __attribute__((noreturn)) void quit(int code) {
  for (;;) sys3(SYS_exit, code, 0, 0);
}

static int has_slash(const char *s) {
  for (; *s; s++)
    if (*s == '/') return 1;
  return 0;
}

__attribute__((used)) void netwait_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc < 3) {
    say("usage: netwait <ready-file> <program> [args...]", 0);
    quit(125);
  }
  /* SIGINT (2) and SIGTERM (15), blocked so that rt_sigtimedwait can take them as its sleep. */
  unsigned long stop = (1UL << 1) | (1UL << 14), old = 0;
  sys4(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, (long)&stop, (long)&old, 8);
  struct { long sec, nsec; } tick = {0, 1000000};
  long waited = 0;
  while (sys3(SYS_access, (long)argv[1], 0, 0) != 0) {
    if (waited++ >= 60000) {
      say("the task's network was not ready within 60 s", 0);
      quit(125);
    }
    long sig = sys4(SYS_rt_sigtimedwait, (long)&stop, 0, (long)&tick, 8);
    if (sig > 0) quit(128 + (int)sig);
  }
  sys4(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (long)&old, 0, 8);
  char *file = argv[2];
  char **args = argv + 2;
  if (has_slash(file)) {
    sys3(SYS_execve, (long)file, (long)args, (long)envp);
    say("cannot run ", file);
    quit(127);
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char **e = envp; *e; e++) {
    const char *v = *e;
    if (v[0] == 'P' && v[1] == 'A' && v[2] == 'T' && v[3] == 'H' && v[4] == '=') path = v + 5;
  }
  char buf[4096];
  size_t flen = len(file);
  int denied = 0;
  while (1) {
    size_t n = 0;
    while (path[n] && path[n] != ':') n++;
    size_t at = 0;
    if (n == 0) buf[at++] = '.';
    else if (n < sizeof buf - flen - 2) {
      for (size_t i = 0; i < n; i++) buf[at++] = path[i];
    }
    if (at + flen + 2 <= sizeof buf) {
      buf[at++] = '/';
      for (size_t i = 0; i <= flen; i++) buf[at + i] = file[i];
      long r = sys3(SYS_execve, (long)buf, (long)args, (long)envp);
      if (r == -EACCES) denied = 1;
    }
    if (!path[n]) break;
    path += n + 1;
  }
  say(denied ? "permission denied: " : "executable file not found in $PATH: ", file);
  quit(127);
}

__asm__(".globl _start\n"
        "_start:\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call netwait_main\n"
        "  hlt\n");
