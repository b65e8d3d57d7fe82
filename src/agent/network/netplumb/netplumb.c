/*
 * netplumb: the agent's awsvpc plumber (see netplumb.ts). It gives a task's network namespace its
 * interface with rtnetlink, as `ip link add ... type veth peer ... netns`, `ip link set master
 * up` and, inside, `ip addr add`, `ip link set eth0 up`, `ip route add default via` would, but
 * from one long-lived process: no fork, exec or dynamic loading per task (the `ip` and `nsenter`
 * processes cost about 8 ms of CPU per task, this about 0.6 ms, nearly all of it the kernel's).
 *
 * It reads one request per line on stdin and writes one answer per request on stdout, in order;
 * it exits 0 at the end of stdin. Fields are separated by spaces:
 *
 *   request: <id> <pid> <bridge> <hostIfName> <eth0 MAC aa:bb:cc:dd:ee:ff> <ip> <prefixLength> <gateway>
 *   answer:  <id> ok
 *            <id> err <message, naming the step and the kernel's reason>
 *
 * <id> is echoed as given (1 to 20 of [0-9A-Za-z._-]; `-` when it is not one). Empty lines are
 * not requests and get no answer; any other line gets one, a malformed one an `err`.
 *
 * End state, as the `ip` commands leave it: the veth pair <hostIfName> (on <bridge>, up) and eth0
 * (in the namespace of <pid>, with <MAC>, <ip>/<prefixLength>, up, default route via <gateway>).
 * When <hostIfName> exists already (left by a crash), that link is deleted and the pair made
 * again, once. The program goes back to its own namespace after every request, failed or not,
 * and exits 1 if it ever cannot. Freestanding (no libc): built by scripts/gen-programs.sh into
 * netplumb-binary.ts; needs the kernel's UAPI headers to build, nothing to run.
 */
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "../freestanding/syscall.h"

#define SYS_read 0
#define SYS_write 1
#define SYS_close 3
#define SYS_fstat 5
#define SYS_ioctl 16
#define SYS_socket 41
#define SYS_openat 257
#define SYS_setns 308

#define AT_FDCWD -100
#define O_RDONLY 0
#define AF_INET 2
#define AF_NETLINK 16
#define SOCK_RAW 3
#define CLONE_NEWNET 0x40000000
#define SIOCGIFINDEX 0x8933
#define IFF_UP 1

#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EEXIST 17
#define ENODEV 19

static void copy(void *to, const void *from, size_t n) {
  for (size_t i = 0; i < n; i++) ((char *)to)[i] = ((const char *)from)[i];
}

static void zero(void *to, size_t n) {
  for (size_t i = 0; i < n; i++) ((volatile char *)to)[i] = 0;
}

/* ---- the answer line ---- */

static char out[512];
static size_t outlen;

static void add(const char *s) {
  for (; *s && outlen < sizeof out - 2; s++) out[outlen++] = *s;
}

static void add_num(unsigned long v) {
  char d[24];
  int n = 0;
  do d[n++] = (char)('0' + v % 10); while ((v /= 10) && n < 24);
  while (n && outlen < sizeof out - 2) out[outlen++] = d[--n];
}

static void add_ip(const unsigned char *ip) {
  for (int i = 0; i < 4; i++) {
    if (i) add(".");
    add_num(ip[i]);
  }
}

/* The C library's wording, for the errors rtnetlink and /proc can give here. */
static const char *reason(long err) {
  switch (-err) {
  case 1: return "Operation not permitted";
  case 2: return "No such file or directory";
  case 3: return "No such process";
  case 9: return "Bad file descriptor";
  case 12: return "Cannot allocate memory";
  case 13: return "Permission denied";
  case 16: return "Device or resource busy";
  case 17: return "File exists";
  case 19: return "No such device";
  case 22: return "Invalid argument";
  case 23: return "Too many open files in system";
  case 24: return "Too many open files";
  case 28: return "No space left on device";
  case 34: return "Numerical result out of range";
  case 90: return "Message too long";
  case 93: return "Protocol not supported";
  case 95: return "Operation not supported";
  case 97: return "Address family not supported by protocol";
  case 98: return "Address already in use";
  case 99: return "Cannot assign requested address";
  case 100: return "Network is down";
  case 101: return "Network is unreachable";
  case 105: return "No buffer space available";
  case 113: return "No route to host";
  default: return 0;
  }
}

static void add_reason(long err) {
  const char *r = reason(err);
  if (r) add(r);
  else {
    add("errno ");
    add_num((unsigned long)-err);
  }
}

static void send_answer(void) {
  out[outlen++] = '\n';
  for (size_t at = 0; at < outlen;) {
    long n = sys3(SYS_write, 1, (long)(out + at), (long)(outlen - at));
    if (n == -EINTR) continue;
    if (n <= 0) quit(1); /* nobody to answer to */
    at += (size_t)n;
  }
}

/* ---- rtnetlink ---- */

static unsigned char msg[1024] __attribute__((aligned(8)));
static unsigned char ack[8192] __attribute__((aligned(8)));
static unsigned int seq;

static struct nlmsghdr *start(int type, int flags) {
  zero(msg, sizeof msg);
  struct nlmsghdr *h = (struct nlmsghdr *)msg;
  h->nlmsg_len = NLMSG_HDRLEN;
  h->nlmsg_type = (unsigned short)type;
  h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
  h->nlmsg_seq = ++seq;
  return h;
}

/* Appends n zeroed bytes (a family header) and returns them. */
static void *extend(struct nlmsghdr *h, size_t n) {
  void *at = (char *)h + NLMSG_ALIGN(h->nlmsg_len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + NLMSG_ALIGN(n);
  return at;
}

/* Appends an attribute; with no data it opens a nest that end() closes. */
static struct rtattr *put(struct nlmsghdr *h, int type, const void *data, size_t n) {
  struct rtattr *a = extend(h, RTA_LENGTH(n));
  a->rta_type = (unsigned short)type;
  a->rta_len = (unsigned short)RTA_LENGTH(n);
  if (n) copy(RTA_DATA(a), data, n);
  return a;
}

static void end(struct nlmsghdr *h, struct rtattr *nest) {
  nest->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)nest);
}

/* Sends the message and returns the kernel's answer to it: 0 or -errno. */
static long talk(int sock, struct nlmsghdr *h) {
  long n;
  do n = sys3(SYS_write, sock, (long)h, h->nlmsg_len);
  while (n == -EINTR);
  if (n < 0) return n;
  for (;;) {
    n = sys3(SYS_read, sock, (long)ack, sizeof ack);
    if (n == -EINTR) continue;
    if (n < 0) return n;
    int left = (int)n;
    /* rtnetlink answers while the write is processed; anything else is a stale answer. */
    for (struct nlmsghdr *r = (struct nlmsghdr *)ack; NLMSG_OK(r, left); r = NLMSG_NEXT(r, left))
      if (r->nlmsg_seq == h->nlmsg_seq && r->nlmsg_type == NLMSG_ERROR)
        return ((struct nlmsgerr *)NLMSG_DATA(r))->error;
  }
}

static long netlink_socket(void) {
  return sys3(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
}

/* The index of a link of the socket's namespace, or -errno. */
static long link_index(int sock, const char *name) {
  struct {
    char name[16];
    int index;
    char pad[20];
  } ifr;
  zero(&ifr, sizeof ifr);
  copy(ifr.name, name, len(name) + 1);
  long r = sys3(SYS_ioctl, sock, SIOCGIFINDEX, (long)&ifr);
  return r < 0 ? r : ifr.index;
}

/* ---- one request ---- */

struct plumb {
  const char *id, *pid_text, *bridge, *host_if;
  unsigned char mac[6], ip[4], gateway[4];
  unsigned long pid, prefix;
};

static int self_ns, host_sock;

static long create_veth(const struct plumb *p, int bridge, int ns) {
  struct nlmsghdr *h = start(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg *ifi = extend(h, sizeof *ifi);
  /* Up and on the bridge in the same message: the kernel applies both after creating the pair. */
  ifi->ifi_flags = ifi->ifi_change = IFF_UP;
  put(h, IFLA_IFNAME, p->host_if, len(p->host_if) + 1);
  put(h, IFLA_MASTER, &bridge, 4);
  struct rtattr *info = put(h, IFLA_LINKINFO, 0, 0);
  put(h, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = put(h, IFLA_INFO_DATA, 0, 0);
  struct rtattr *peer = put(h, VETH_INFO_PEER, 0, 0);
  extend(h, sizeof(struct ifinfomsg));
  put(h, IFLA_IFNAME, "eth0", 5);
  put(h, IFLA_ADDRESS, p->mac, 6);
  put(h, IFLA_NET_NS_FD, &ns, 4);
  end(h, peer);
  end(h, data);
  end(h, info);
  return talk(host_sock, h);
}

static long delete_link(const char *name) {
  struct nlmsghdr *h = start(RTM_DELLINK, 0);
  extend(h, sizeof(struct ifinfomsg));
  put(h, IFLA_IFNAME, name, len(name) + 1);
  return talk(host_sock, h);
}

/* The steps inside the task's namespace (the caller goes back); 0, or -1 with the answer written. */
static int configure_inside(const struct plumb *p) {
  long sock = netlink_socket();
  if (sock < 0) {
    add("netlink socket in the task's namespace: ");
    add_reason(sock);
    return -1;
  }
  long r = link_index((int)sock, "eth0");
  int eth0 = (int)r;
  if (r < 0) {
    add("eth0 in the task's namespace: ");
    goto fail;
  }

  struct nlmsghdr *h = start(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg *ifa = extend(h, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)p->prefix;
  ifa->ifa_index = (unsigned)eth0;
  put(h, IFA_LOCAL, p->ip, 4);
  put(h, IFA_ADDRESS, p->ip, 4);
  if ((r = talk((int)sock, h)) < 0) {
    add("adding ");
    add_ip(p->ip);
    add("/");
    add_num(p->prefix);
    add(" to eth0: ");
    goto fail;
  }

  /* Up before the route: the kernel refuses a gateway that no up link reaches. */
  h = start(RTM_NEWLINK, 0);
  struct ifinfomsg *ifi = extend(h, sizeof *ifi);
  ifi->ifi_index = eth0;
  ifi->ifi_flags = ifi->ifi_change = IFF_UP;
  if ((r = talk((int)sock, h)) < 0) {
    add("setting eth0 up: ");
    goto fail;
  }

  h = start(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  struct rtmsg *rt = extend(h, sizeof *rt);
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  put(h, RTA_GATEWAY, p->gateway, 4);
  put(h, RTA_OIF, &eth0, 4);
  if ((r = talk((int)sock, h)) < 0) {
    add("adding the default route via ");
    add_ip(p->gateway);
    add(": ");
    goto fail;
  }
  sys3(SYS_close, sock, 0, 0);
  return 0;
fail:
  add_reason(r);
  sys3(SYS_close, sock, 0, 0);
  return -1;
}

static int same_file(int a, int b) {
  long sa[18], sb[18]; /* struct stat: st_dev, then st_ino */
  if (sys3(SYS_fstat, a, (long)sa, 0) < 0 || sys3(SYS_fstat, b, (long)sb, 0) < 0) return 0;
  return sa[0] == sb[0] && sa[1] == sb[1];
}

/* Does one request; the answer's text after the id is left in out. */
static void attach(const struct plumb *p) {
  char path[40];
  size_t at = 0;
  copy(path, "/proc/", 6);
  at = 6;
  copy(path + at, p->pid_text, len(p->pid_text));
  at += len(p->pid_text);
  copy(path + at, "/ns/net", 8);
  long ns = sys4(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0);
  if (ns < 0) {
    if (ns == -ENOENT || ns == -ESRCH) {
      add("err no such process ");
      add(p->pid_text);
    } else {
      add("err opening ");
      add(path);
      add(": ");
      add_reason(ns);
    }
    return;
  }
  /* A pid in the agent's own namespace would get an eth0 of the host's: never. */
  if (same_file((int)ns, self_ns)) {
    add("err process ");
    add(p->pid_text);
    add(" is in the agent's own network namespace");
    goto done;
  }
  long bridge = link_index(host_sock, p->bridge);
  if (bridge < 0) {
    add("err bridge ");
    add(p->bridge);
    add(": ");
    add_reason(bridge);
    goto done;
  }
  long r = create_veth(p, (int)bridge, (int)ns);
  if (r == -EEXIST) {
    /* Left by a crash between plumbing and the namespace's end: take the name over. When no link
       has the name, the eth0 inside is what exists, and making the pair again cannot help. */
    long d = delete_link(p->host_if);
    if (d == 0) r = create_veth(p, (int)bridge, (int)ns);
    else if (d == -ENODEV) {
      add("err creating veth ");
      add(p->host_if);
      add(": eth0 exists in the task's namespace");
      goto done;
    }
  }
  if (r < 0) {
    add("err creating veth ");
    add(p->host_if);
    add(": ");
    add_reason(r);
    goto done;
  }
  if ((r = sys3(SYS_setns, ns, CLONE_NEWNET, 0)) < 0) {
    add("err entering the task's namespace: ");
    add_reason(r);
    goto done;
  }
  size_t mark = outlen;
  add("err ");
  int inside = configure_inside(p);
  if ((r = sys3(SYS_setns, self_ns, CLONE_NEWNET, 0)) < 0) {
    /* Every later request would run in the wrong namespace: answer, then end. */
    outlen = mark;
    add("err cannot return to the agent's namespace: ");
    add_reason(r);
    send_answer();
    quit(1);
  }
  if (inside == 0) {
    outlen = mark;
    add("ok");
  }
done:
  sys3(SYS_close, ns, 0, 0);
}

/* ---- parsing ---- */

static int parse_num(const char *s, unsigned long max, unsigned long *v) {
  unsigned long n = 0;
  if (len(s) < 1 || len(s) > 10) return 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    n = n * 10 + (unsigned long)(*s - '0');
    if (n > max) return 0;
  }
  *v = n;
  return 1;
}

static int parse_ip(const char *s, unsigned char *ip) {
  for (int i = 0; i < 4; i++) {
    unsigned long n = 0;
    int digits = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) n = n * 10 + (unsigned long)(*s - '0');
    if (digits < 1 || digits > 3 || n > 255) return 0;
    ip[i] = (unsigned char)n;
    if (*s != (i < 3 ? '.' : 0)) return 0;
    if (i < 3) s++;
  }
  return 1;
}

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int parse_mac(const char *s, unsigned char *mac) {
  if (len(s) != 17) return 0;
  for (int i = 0; i < 6; i++) {
    int hi = hex(s[3 * i]), lo = hex(s[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':')) return 0;
    mac[i] = (unsigned char)(hi * 16 + lo);
  }
  return 1;
}

static int valid_id(const char *s) {
  size_t n = len(s);
  if (n < 1 || n > 20) return 0;
  for (; *s; s++) {
    char c = *s;
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
          c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

static int valid_ifname(const char *s) {
  size_t n = len(s);
  return n >= 1 && n <= 15;
}

/* Splits the line in place into at most 9 fields (a 9th means too many). */
static int split(char *line, char **f) {
  int n = 0;
  while (*line && n < 9) {
    while (*line == ' ' || *line == '\t' || *line == '\r') *line++ = 0;
    if (!*line) break;
    f[n++] = line;
    while (*line && *line != ' ' && *line != '\t' && *line != '\r') line++;
  }
  return n;
}

static void handle(char *line, int too_long) {
  char *f[9];
  int n = split(line, f);
  if (n == 0 && !too_long) return;
  outlen = 0;
  add(n > 0 && valid_id(f[0]) ? f[0] : "-");
  add(" ");
  struct plumb p;
  const char *bad = 0;
  if (too_long) bad = "line too long";
  else if (n != 8) bad = "expected <id> <pid> <bridge> <hostIfName> <mac> <ip> <prefixLength> <gateway>";
  else if (!valid_id(f[0])) bad = "bad id";
  else if (!parse_num(f[1], 0x7fffffff, &p.pid) || p.pid == 0) bad = "bad pid";
  else if (!valid_ifname(f[2])) bad = "bad bridge name";
  else if (!valid_ifname(f[3])) bad = "bad host interface name";
  else if (!parse_mac(f[4], p.mac)) bad = "bad MAC address";
  else if (!parse_ip(f[5], p.ip)) bad = "bad address";
  else if (!parse_num(f[6], 32, &p.prefix)) bad = "bad prefix length";
  else if (!parse_ip(f[7], p.gateway)) bad = "bad gateway";
  if (bad) {
    add("err malformed request: ");
    add(bad);
  } else {
    p.id = f[0];
    p.pid_text = f[1];
    p.bridge = f[2];
    p.host_if = f[3];
    attach(&p);
  }
  send_answer();
}

static char in[4096];
static char line[512];

__attribute__((used)) void netplumb_main(void) {
  self_ns = (int)sys4(SYS_openat, AT_FDCWD, (long)"/proc/self/ns/net", O_RDONLY, 0);
  host_sock = (int)netlink_socket();
  if (self_ns < 0 || host_sock < 0) {
    const char *m = "netplumb: cannot open its own namespace or a netlink socket\n";
    sys3(SYS_write, 2, (long)m, (long)len(m));
    quit(1);
  }
  size_t used = 0;
  int too_long = 0;
  for (;;) {
    long n = sys3(SYS_read, 0, (long)in, sizeof in);
    if (n == -EINTR) continue;
    if (n < 0) quit(1);
    if (n == 0) break;
    for (long i = 0; i < n; i++) {
      if (in[i] == '\n') {
        line[used] = 0;
        handle(line, too_long);
        used = 0;
        too_long = 0;
      } else if (used < sizeof line - 1) line[used++] = in[i];
      else too_long = 1;
    }
  }
  if (used || too_long) {
    line[used] = 0;
    handle(line, too_long);
  }
  quit(0);
}

__asm__(".globl _start\n"
        "_start:\n"
        "  and $-16, %rsp\n"
        "  call netplumb_main\n"
        "  hlt\n");
