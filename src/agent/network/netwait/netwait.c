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
 * It sleeps on inotify (the ready file's directory) and a signalfd, so a container that waits
 * costs nothing: polling every millisecond had cost 50 waiting containers a CPU-second every 2.5 s,
 * on the machine that was busy starting them. Without inotify it polls, backing off to 20 ms.
 * Freestanding (no libc): built by scripts/gen-programs.sh into netwait-binary.ts.
 */
#include "../freestanding/syscall.h"

#define SYS_read 0
#define SYS_write 1
#define SYS_close 3
#define SYS_poll 7
#define SYS_rt_sigprocmask 14
#define SYS_access 21
#define SYS_rt_sigtimedwait 128
#define SYS_execve 59
#define SYS_clock_gettime 228
#define SYS_inotify_add_watch 254
#define SYS_signalfd4 289
#define SYS_inotify_init1 294
#define ENOENT 2
#define EINTR 4
#define EACCES 13
#define O_CLOEXEC 02000000
#define IN_ATTRIB 0x4
#define IN_MOVED_TO 0x80
#define IN_CREATE 0x100
#define POLLIN 1
#define CLOCK_MONOTONIC 1
#define WAIT_MS 60000

struct pollfd {
  int fd;
  short events, revents;
};

struct timespec {
  long sec, nsec;
};

static void say(const char *a, const char *b) {
  sys3(SYS_write, 2, (long)"netwait: ", 9);
  sys3(SYS_write, 2, (long)a, (long)len(a));
  if (b) sys3(SYS_write, 2, (long)b, (long)len(b));
  sys3(SYS_write, 2, (long)"\n", 1);
}

static long now_ms(void) {
  struct timespec t;
  sys3(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&t, 0);
  return t.sec * 1000 + t.nsec / 1000000;
}

/*
 * Waits for `file`; returns 0 once it exists, the number of a signal in `mask` that came first,
 * or -1 after WAIT_MS. The watch is set before the first look, so a file made in between wakes it.
 */
static long wait_ready(const char *file, unsigned long *mask) {
  char dir[4096];
  size_t slash = 0, n = len(file);
  int has = 0;
  for (size_t i = 0; i < n; i++)
    if (file[i] == '/') slash = i, has = 1;
  if (!has) dir[0] = '.', dir[1] = 0;
  else if (slash == 0) dir[0] = '/', dir[1] = 0;
  else if (slash < sizeof dir) {
    for (size_t i = 0; i < slash; i++) dir[i] = file[i];
    dir[slash] = 0;
  } else dir[0] = 0;
  long deadline = now_ms() + WAIT_MS;
  long ino = sys3(SYS_inotify_init1, O_CLOEXEC, 0, 0);
  long sfd = sys4(SYS_signalfd4, -1, (long)mask, 8, O_CLOEXEC);
  int watching = ino >= 0 && sfd >= 0 && dir[0] &&
                 sys3(SYS_inotify_add_watch, ino, (long)dir, IN_CREATE | IN_MOVED_TO | IN_ATTRIB) >= 0;
  long result, tick_ms = 1;
  for (;;) {
    if (sys3(SYS_access, (long)file, 0, 0) == 0) {
      result = 0;
      break;
    }
    long left = deadline - now_ms();
    if (left <= 0) {
      result = -1;
      break;
    }
    if (watching) {
      struct pollfd p[2];
      p[0].fd = (int)ino, p[0].events = POLLIN, p[0].revents = 0;
      p[1].fd = (int)sfd, p[1].events = POLLIN, p[1].revents = 0;
      long r = sys3(SYS_poll, (long)p, 2, left);
      if (r < 0 && r != -EINTR) watching = 0;
      else if (r > 0 && p[1].revents) {
        unsigned int info[32]; /* struct signalfd_siginfo: ssi_signo first */
        if (sys3(SYS_read, sfd, (long)info, sizeof info) > 0) {
          result = info[0];
          break;
        }
      } else if (r > 0 && p[0].revents) {
        char events[4096];
        sys3(SYS_read, ino, (long)events, sizeof events);
      }
    } else {
      struct timespec t = {0, tick_ms * 1000000};
      long sig = sys4(SYS_rt_sigtimedwait, (long)mask, 0, (long)&t, 8);
      if (sig > 0) {
        result = sig;
        break;
      }
      if (tick_ms < 20) tick_ms *= 2;
    }
  }
  if (ino >= 0) sys3(SYS_close, ino, 0, 0);
  if (sfd >= 0) sys3(SYS_close, sfd, 0, 0);
  return result;
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
  /* SIGINT (2) and SIGTERM (15), blocked so that the signalfd (or rt_sigtimedwait) takes them. */
  unsigned long stop = (1UL << 1) | (1UL << 14), old = 0;
  sys4(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, (long)&stop, (long)&old, 8);
  long got = wait_ready(argv[1], &stop);
  if (got < 0) {
    say("the task's network was not ready within 60 s", 0);
    quit(125);
  }
  if (got > 0) quit(128 + (int)got);
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
