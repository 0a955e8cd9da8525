/* berth-probe: runs inside a test container and reports, as JSON on stdout,
 * what the container sees. Static, libc only. Subcommands (argv[1]):
 *   (none) | report          full report
 *   fds                      open fds with their targets
 *   open PATH [r|w]          try open(2)             {"ok","errno","error"}
 *   read PATH                read a file             {"ok",...,"data"}
 *   write PATH DATA          write DATA to PATH      {"ok","errno","error"}
 *   mknod PATH c|b MAJ MIN   try mknod(2)
 *   stat PATH                lstat: type, mode, uid, gid, major, minor, target
 *   ls DIR                   directory entries
 *   remount PATH ro|rw       try a bind remount of PATH (mount-ro PATH = rw try)
 *   umount PATH              try umount2(PATH, MNT_DETACH)
 *   mount-proc PATH          try mounting a new procfs at PATH
 *   sleep N | exit N         sleep N seconds / exit with status N
 *   sigwait                  print {"ready":true}, then block until a signal
 *                            (other than URG, CHLD, WINCH) and report it
 *   sys CALL...              make raw syscalls; CALL is NAME or NAME,ARG0,ARG1...
 *                            (numbers, 0x.. too), NAME from the table below or
 *                            a number. {"results":[{"name","ret","errno"}...]};
 *                            a SIGSYS is caught and reported as "sigsys"
 *   thread-sys CALL          the same call from a second thread, then
 *                            {"thread":{...},"survived":true} from the first
 *   exe-attack ARG           CVE-2019-5736: find a process with ARG among its
 *                            arguments, open its /proc/PID/exe (O_PATH) and
 *                            report; at EOF on stdin, try to reopen that for
 *                            writing (never writes) and report again
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

/* ---- JSON output: a tiny writer that tracks whether a comma is due ---- */

static int need_comma;

static void sep(void) {
  if (need_comma) putchar(',');
  need_comma = 1;
}

static void raw_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", stdout); break;
    case '\\': fputs("\\\\", stdout); break;
    case '\n': fputs("\\n", stdout); break;
    case '\t': fputs("\\t", stdout); break;
    case '\r': fputs("\\r", stdout); break;
    default:
      if (*p < 0x20 || *p == 0x7f) printf("\\u%04x", *p);
      else putchar(*p);
    }
  }
  putchar('"');
}

static void key(const char *k) { sep(); raw_str(k); putchar(':'); need_comma = 0; }
static void open_obj(const char *k) { if (k) key(k); else sep(); putchar('{'); need_comma = 0; }
static void open_arr(const char *k) { if (k) key(k); else sep(); putchar('['); need_comma = 0; }
static void close_obj(void) { putchar('}'); need_comma = 1; }
static void close_arr(void) { putchar(']'); need_comma = 1; }
static void j_str(const char *k, const char *v) {
  if (k) key(k); else sep();
  if (v) raw_str(v); else fputs("null", stdout);
  need_comma = 1;
}
static void j_int(const char *k, long long v) { if (k) key(k); else sep(); printf("%lld", v); need_comma = 1; }
static void j_bool(const char *k, int v) { if (k) key(k); else sep(); fputs(v ? "true" : "false", stdout); need_comma = 1; }
static void j_null(const char *k) { key(k); fputs("null", stdout); need_comma = 1; }

static void finish(void) { putchar('\n'); fflush(stdout); need_comma = 0; }

/* {"ok":..,"errno":..,"error":..} fields for the result of one syscall. */
static void j_result(int rc, int err) {
  j_bool("ok", rc == 0);
  j_int("errno", rc == 0 ? 0 : err);
  j_str("error", rc == 0 ? "" : strerror(err));
}

/* ---- helpers ---- */

static char *read_file(const char *path, size_t *len_out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (len == cap) buf = realloc(buf, (cap *= 2) + 1);
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = 0;
  if (len_out) *len_out = len;
  return buf;
}

/* Value after "Name:\t" in /proc/self/status, trimmed; static buffer. */
static const char *status_field(const char *name) {
  static char val[256];
  char *st = read_file("/proc/self/status", NULL);
  if (!st) return NULL;
  size_t nl = strlen(name);
  const char *res = NULL;
  for (char *line = strtok(st, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
      char *v = line + nl + 1;
      while (*v == ' ' || *v == '\t') v++;
      snprintf(val, sizeof val, "%s", v);
      res = val;
      break;
    }
  }
  free(st);
  return res;
}

/* Undo the octal escapes (\040 etc.) used in /proc/self/mountinfo. */
static char *unescape(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = 0;
  return s;
}

static const char *file_type(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISCHR(m)) return "char";
  if (S_ISBLK(m)) return "block";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  return "unknown";
}

/* ---- report sections ---- */

static void report_ids(void) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  open_obj("uid"); j_int("real", r); j_int("effective", e); j_int("saved", s); close_obj();
  open_obj("gid"); j_int("real", gr); j_int("effective", ge); j_int("saved", gs); close_obj();
  gid_t groups[NGROUPS_MAX];
  int n = getgroups(NGROUPS_MAX, groups);
  open_arr("groups");
  for (int i = 0; i < n; i++) j_int(NULL, groups[i]);
  close_arr();
}

static void report_status(void) {
  j_str("umask", status_field("Umask"));
  static const char *caps[][2] = {{"CapInh", "inheritable"}, {"CapPrm", "permitted"},
                                  {"CapEff", "effective"}, {"CapBnd", "bounding"},
                                  {"CapAmb", "ambient"}};
  open_obj("capabilities");
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) j_str(caps[i][1], status_field(caps[i][0]));
  close_obj();
  j_int("no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  const char *sc = status_field("Seccomp");
  j_int("seccomp", sc ? atoi(sc) : -1);
}

static void report_rlimits(void) {
  static const struct { const char *name; int res; } lims[] = {
      {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_STACK", RLIMIT_STACK},
      {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME}};
  open_obj("rlimits");
  for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
    struct rlimit rl;
    if (getrlimit(lims[i].res, &rl) != 0) continue;
    open_obj(lims[i].name);
    j_int("soft", rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur);
    j_int("hard", rl.rlim_max == RLIM_INFINITY ? -1 : (long long)rl.rlim_max);
    close_obj();
  }
  close_obj();
}

static void report_names(void) {
  char *s = read_file("/proc/self/oom_score_adj", NULL);
  j_int("oom_score_adj", s ? atoi(s) : -10000);
  free(s);
  struct utsname u;
  uname(&u);
  j_str("hostname", u.nodename);
  j_str("domainname", u.domainname);
  j_str("machine", u.machine);
  char cwd[PATH_MAX];
  j_str("cwd", getcwd(cwd, sizeof cwd));
  open_arr("env");
  for (char **e = environ; *e; e++) j_str(NULL, *e);
  close_arr();
}

static void report_namespaces(void) {
  open_obj("namespaces");
  DIR *d = opendir("/proc/self/ns");
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char p[300], t[256];
    snprintf(p, sizeof p, "/proc/self/ns/%s", de->d_name);
    ssize_t n = readlink(p, t, sizeof t - 1);
    if (n < 0) continue;
    t[n] = 0;
    j_str(de->d_name, t);
  }
  if (d) closedir(d);
  close_obj();
}

static void report_mounts(void) {
  open_arr("mounts");
  char *mi = read_file("/proc/self/mountinfo", NULL);
  char *save = NULL;
  for (char *line = mi ? strtok_r(mi, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
    char *f[64];
    int n = 0;
    for (char *t = strtok(line, " "); t && n < 64; t = strtok(NULL, " ")) f[n++] = t;
    int dash = -1;
    for (int i = 6; i < n; i++)
      if (strcmp(f[i], "-") == 0) { dash = i; break; }
    if (dash < 0 || dash + 2 >= n) continue; /* need fstype and source */
    char prop[256] = "";
    for (int i = 6; i < dash; i++) {
      if (prop[0]) strncat(prop, " ", sizeof prop - strlen(prop) - 1);
      strncat(prop, f[i], sizeof prop - strlen(prop) - 1);
    }
    open_obj(NULL);
    j_str("mount_point", unescape(f[4]));
    j_str("root", unescape(f[3]));
    j_str("fstype", f[dash + 1]);
    j_str("source", unescape(f[dash + 2]));
    j_str("options", f[5]);
    j_str("super_options", dash + 3 < n ? f[dash + 3] : "");
    j_str("propagation", prop[0] ? prop : "none");
    close_obj();
  }
  free(mi);
  close_arr();
}

static void report_cgroup(void) {
  open_arr("cgroup");
  char *cg = read_file("/proc/self/cgroup", NULL);
  for (char *line = cg ? strtok(cg, "\n") : NULL; line; line = strtok(NULL, "\n")) j_str(NULL, line);
  free(cg);
  close_arr();
}

static void report_sched(void) {
  j_int("personality", personality(0xffffffff));
  int pol = sched_getscheduler(0);
  struct sched_param sp = {0};
  sched_getparam(0, &sp);
  open_obj("scheduler");
  j_int("policy", pol & ~SCHED_RESET_ON_FORK);
  j_bool("reset_on_fork", (pol & SCHED_RESET_ON_FORK) != 0);
  j_int("priority", sp.sched_priority);
  errno = 0;
  j_int("nice", getpriority(PRIO_PROCESS, 0));
  close_obj();
  long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
  open_obj("ioprio");
  j_int("raw", io);
  j_int("class", io >= 0 ? io >> 13 : -1);
  j_int("level", io >= 0 ? io & 0xff : -1);
  close_obj();
  cpu_set_t set;
  char list[1024] = "";
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; i++) {
      if (!CPU_ISSET(i, &set)) continue;
      int j = i;
      while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &set)) j++;
      size_t l = strlen(list);
      if (j == i) snprintf(list + l, sizeof list - l, "%s%d", l ? "," : "", i);
      else snprintf(list + l, sizeof list - l, "%s%d-%d", l ? "," : "", i, j);
      i = j;
    }
  }
  j_str("cpu_affinity", list);
  /* KEYCTL_GET_KEYRING_ID (0) of KEY_SPEC_SESSION_KEYRING (-3), no create. */
  long kr = syscall(SYS_keyctl, 0, -3, 0);
  j_int("session_keyring", kr < 0 ? -errno : kr);
}

static void report_fds(void) {
  open_arr("fds");
  DIR *d = opendir("/proc/self/fd");
  int self = d ? dirfd(d) : -1;
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    int fd = atoi(de->d_name);
    if (fd == self) continue;
    char p[64], t[PATH_MAX];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, t, sizeof t - 1);
    t[n < 0 ? 0 : n] = 0;
    open_obj(NULL); j_int("fd", fd); j_str("target", t); close_obj();
  }
  if (d) closedir(d);
  close_arr();
}

static void report_tty(void) {
  j_str("tty", isatty(0) ? ttyname(0) : NULL);
  open_obj("isatty");
  for (int fd = 0; fd < 3; fd++) { char k[2] = {(char)('0' + fd), 0}; j_bool(k, isatty(fd)); }
  close_obj();
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
    open_obj("winsize"); j_int("rows", ws.ws_row); j_int("cols", ws.ws_col); close_obj();
  } else {
    j_null("winsize");
  }
  j_int("sid", getsid(0));
  j_int("pgid", getpgid(0));
  j_int("tty_pgrp", isatty(0) ? tcgetpgrp(0) : -1);
}

static int cmd_report(void) {
  open_obj(NULL);
  j_int("pid", getpid());
  j_int("ppid", getppid());
  report_ids();
  report_status();
  report_rlimits();
  report_names();
  report_namespaces();
  report_mounts();
  report_cgroup();
  report_sched();
  report_fds();
  report_tty();
  close_obj();
  finish();
  return 0;
}

/* ---- action subcommands ---- */

static int cmd_open(const char *path, const char *mode) {
  int fl = (mode && mode[0] == 'w') ? O_WRONLY : O_RDONLY;
  int fd = open(path, fl | O_CLOEXEC);
  int err = errno;
  open_obj(NULL); j_result(fd < 0 ? -1 : 0, err); close_obj(); finish();
  if (fd >= 0) close(fd);
  return 0;
}

static int cmd_read(const char *path) {
  size_t len = 0;
  errno = 0;
  char *data = read_file(path, &len);
  int err = errno;
  open_obj(NULL); j_result(data ? 0 : -1, err); j_str("data", data ? data : ""); close_obj(); finish();
  free(data);
  return 0;
}

static int cmd_write(const char *path, const char *data) {
  int rc = -1, err = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    rc = write(fd, data, strlen(data)) == (ssize_t)strlen(data) ? 0 : -1;
    err = errno;
    if (close(fd) != 0 && rc == 0) { rc = -1; err = errno; }
  } else {
    err = errno;
  }
  open_obj(NULL); j_result(rc, err); close_obj(); finish();
  return 0;
}

static int cmd_mknod(const char *path, const char *type, const char *maj, const char *min) {
  mode_t t = type[0] == 'b' ? S_IFBLK : S_IFCHR;
  int rc = mknod(path, t | 0600, makedev(atoi(maj), atoi(min)));
  int err = errno;
  open_obj(NULL); j_result(rc, err); close_obj(); finish();
  return 0;
}

static int cmd_stat(const char *path) {
  struct stat st;
  int rc = lstat(path, &st);
  int err = errno;
  open_obj(NULL);
  j_result(rc, err);
  if (rc == 0) {
    char mode[8], tgt[PATH_MAX];
    snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    j_str("type", file_type(st.st_mode));
    j_str("mode", mode);
    j_int("uid", st.st_uid);
    j_int("gid", st.st_gid);
    j_int("size", st.st_size);
    j_int("major", major(st.st_rdev));
    j_int("minor", minor(st.st_rdev));
    ssize_t n = S_ISLNK(st.st_mode) ? readlink(path, tgt, sizeof tgt - 1) : -1;
    if (n >= 0) { tgt[n] = 0; j_str("target", tgt); }
  }
  close_obj();
  finish();
  return 0;
}

static int cmd_ls(const char *path) {
  DIR *d = opendir(path);
  int err = errno;
  open_obj(NULL);
  j_result(d ? 0 : -1, err);
  open_arr("entries");
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) j_str(NULL, de->d_name);
  close_arr();
  close_obj();
  finish();
  if (d) closedir(d);
  return 0;
}

static int cmd_remount(const char *path, const char *how) {
  unsigned long fl = MS_REMOUNT | MS_BIND;
  if (how && strcmp(how, "ro") == 0) fl |= MS_RDONLY;
  int rc = mount(NULL, path, NULL, fl, NULL);
  int err = errno;
  open_obj(NULL); j_result(rc, err); close_obj(); finish();
  return 0;
}

static int cmd_umount(const char *path) {
  int rc = umount2(path, MNT_DETACH);
  int err = errno;
  open_obj(NULL); j_result(rc, err); close_obj(); finish();
  return 0;
}

static int cmd_mount_proc(const char *path) {
  int rc = mount("proc", path, "proc", 0, NULL);
  int err = errno;
  open_obj(NULL); j_result(rc, err); close_obj(); finish();
  return 0;
}

static int cmd_sigwait(void) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  open_obj(NULL); j_bool("ready", 1); close_obj(); finish();
  siginfo_t si;
  int sig;
  /* SIGURG: Go runtimes (runc) preempt with it and forward it to the
   * container; SIGCHLD/SIGWINCH are noise too. */
  while (((sig = sigwaitinfo(&all, &si)) < 0 && errno == EINTR) ||
         sig == SIGURG || sig == SIGCHLD || sig == SIGWINCH) {}
  open_obj(NULL);
  j_int("signal", sig);
  j_str("name", sig > 0 ? sigabbrev_np(sig) : NULL);
  j_int("sender_pid", si.si_pid);
  close_obj();
  finish();
  return 0;
}

/* ---- raw syscalls (seccomp tests) ---- */

static const struct { const char *name; long nr; } syscalls[] = {
    {"getppid", SYS_getppid}, {"getpid", SYS_getpid}, {"getpgrp", SYS_getpgrp},
    {"getuid", SYS_getuid}, {"unshare", SYS_unshare}, {"mount", SYS_mount},
    {"umount2", SYS_umount2}, {"keyctl", SYS_keyctl}, {"add_key", SYS_add_key},
    {"clone3", SYS_clone3}, {"personality", SYS_personality}, {"ptrace", SYS_ptrace},
    {"mkdirat", SYS_mkdirat}, {"acct", SYS_acct}, {"sethostname", SYS_sethostname},
    {"setns", SYS_setns}, {"chroot", SYS_chroot}, {"uname", SYS_uname},
    {"socket", SYS_socket}, {"bpf", SYS_bpf}, {"reboot", SYS_reboot},
};

static volatile sig_atomic_t sigsys_seen, sigsys_code, sigsys_nr, sigsys_data;

static void on_sigsys(int sig, siginfo_t *si, void *ctx) {
  (void)sig; (void)ctx;
  sigsys_seen = 1;
  sigsys_code = si->si_code;
  sigsys_nr = si->si_syscall;
  sigsys_data = si->si_errno; /* SECCOMP_RET_DATA of the TRAP action */
}

struct sys_result { char name[64]; long nr, ret; int err, sig, code, sys_nr, data; };

/* Makes one raw syscall as SPEC says; prints nothing (a thread may die in it). */
static void call_sys(const char *spec, struct sys_result *r) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", spec);
  char *save = NULL, *name = strtok_r(buf, ",", &save);
  snprintf(r->name, sizeof r->name, "%s", name ? name : "");
  r->nr = -1;
  for (size_t i = 0; name && i < sizeof syscalls / sizeof syscalls[0]; i++)
    if (!strcmp(name, syscalls[i].name)) r->nr = syscalls[i].nr;
  if (r->nr < 0 && name) r->nr = strtol(name, NULL, 0);
  unsigned long a[6] = {0};
  for (int i = 0; i < 6; i++) {
    char *t = strtok_r(NULL, ",", &save);
    if (!t) break;
    a[i] = strtoull(t, NULL, 0);
  }
  sigsys_seen = 0;
  errno = 0;
  r->ret = syscall(r->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  r->err = r->ret == -1 ? errno : 0;
  r->sig = sigsys_seen;
  r->code = sigsys_code;
  r->sys_nr = sigsys_nr;
  r->data = sigsys_data;
}

static void print_sys(const struct sys_result *r) {
  open_obj(NULL);
  j_str("name", r->name);
  j_int("nr", r->nr);
  j_int("ret", r->ret);
  j_int("errno", r->err);
  if (r->sig) {
    open_obj("sigsys");
    j_int("code", r->code);
    j_int("syscall", r->sys_nr);
    j_int("data", r->data);
    close_obj();
  }
  close_obj();
}

static int cmd_sys(int n, char **calls) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &sa, NULL);
  open_obj(NULL);
  open_arr("results");
  for (int i = 0; i < n; i++) {
    struct sys_result r;
    call_sys(calls[i], &r);
    print_sys(&r);
    fflush(stdout); /* what ran before a kill is on record */
  }
  close_arr();
  close_obj();
  finish();
  return 0;
}

static void *sys_thread(void *spec) {
  struct sys_result r;
  call_sys(spec, &r);
  key("thread");
  print_sys(&r);
  return NULL;
}

static int cmd_thread_sys(const char *spec) {
  pthread_t t;
  open_obj(NULL);
  fflush(stdout);
  if (pthread_create(&t, NULL, sys_thread, (void *)spec) != 0) return 3;
  pthread_join(t, NULL);
  j_bool("survived", 1);
  close_obj();
  finish();
  return 0;
}

/* Pid of a process (not us) with `arg` among its arguments, or -1. */
static int find_process_with_arg(const char *arg) {
  DIR *d = opendir("/proc");
  struct dirent *de;
  int found = -1;
  while (d && found < 0 && (de = readdir(d))) {
    int pid = atoi(de->d_name);
    if (pid <= 0 || pid == getpid()) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    size_t len = 0;
    char *cmd = read_file(path, &len);
    for (size_t i = 0; cmd && i < len; i += strlen(cmd + i) + 1)
      if (!strcmp(cmd + i, arg)) found = pid;
    free(cmd);
  }
  if (d) closedir(d);
  return found;
}

static int cmd_exe_attack(const char *arg) {
  int pid = -1;
  for (int i = 0; i < 1000 && pid < 0; i++) {
    pid = find_process_with_arg(arg);
    if (pid < 0) usleep(10000);
  }
  char path[64], target[PATH_MAX] = "";
  snprintf(path, sizeof path, "/proc/%d/exe", pid);
  int fd = pid > 0 ? open(path, O_PATH | O_CLOEXEC) : -1;
  int err = errno;
  ssize_t n = fd >= 0 ? readlink(path, target, sizeof target - 1) : -1;
  target[n < 0 ? 0 : n] = 0;
  open_obj(NULL); j_int("pid", pid); j_str("exe", target); j_result(fd < 0 ? -1 : 0, err); close_obj();
  finish();
  if (fd < 0) return 0;
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {}
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int w = open(path, O_WRONLY | O_CLOEXEC);
  err = errno;
  open_obj(NULL); open_obj("reopen"); j_result(w < 0 ? -1 : 0, err); close_obj(); close_obj();
  finish();
  if (w >= 0) close(w);
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "report";
  const char *a = argc > 2 ? argv[2] : NULL;
  const char *b = argc > 3 ? argv[3] : NULL;
  if (!strcmp(cmd, "report")) return cmd_report();
  if (!strcmp(cmd, "fds")) { open_obj(NULL); report_fds(); close_obj(); finish(); return 0; }
  if (!strcmp(cmd, "sigwait")) return cmd_sigwait();
  if (!strcmp(cmd, "exit")) return a ? atoi(a) : 0;
  if (!strcmp(cmd, "sleep")) { sleep(a ? (unsigned)atoi(a) : 1); return 0; }
  if (!strcmp(cmd, "sys")) return cmd_sys(argc - 2, argv + 2);
  if (!a) goto usage;
  if (!strcmp(cmd, "open")) return cmd_open(a, b);
  if (!strcmp(cmd, "read")) return cmd_read(a);
  if (!strcmp(cmd, "write") && b) return cmd_write(a, b);
  if (!strcmp(cmd, "mknod") && argc > 5) return cmd_mknod(a, b, argv[4], argv[5]);
  if (!strcmp(cmd, "stat")) return cmd_stat(a);
  if (!strcmp(cmd, "ls")) return cmd_ls(a);
  if (!strcmp(cmd, "remount")) return cmd_remount(a, b);
  if (!strcmp(cmd, "mount-ro")) return cmd_remount(a, "rw");
  if (!strcmp(cmd, "thread-sys")) return cmd_thread_sys(a);
  if (!strcmp(cmd, "exe-attack")) return cmd_exe_attack(a);
  if (!strcmp(cmd, "umount")) return cmd_umount(a);
  if (!strcmp(cmd, "mount-proc")) return cmd_mount_proc(a);
usage:
  fprintf(stderr, "probe: bad usage: %s\n", cmd);
  return 2;
}
