/* floor.c: the kernel's floor for starting a container, as a reference for
 * bench/run.py. It does only what the kernel requires to run /bin/true the way
 * the benchmark's config.json asks for (runc's default namespaces):
 *
 *   clone(PID|NS|NET|IPC|UTS) -> in the child: make / private, bind the rootfs
 *   onto itself, pivot_root, detach the old root, mount /proc, exec /bin/true;
 *   the parent waits.
 *
 *   floor ROOTFS                    the above
 *   floor ROOTFS CGROUP-NAME [self] also, before clone, mkdir CGROUP-NAME in
 *                                   every mounted cgroup hierarchy (v1: one per
 *                                   controller; v2: the single unified one),
 *                                   put the child in them before it goes on,
 *                                   and rmdir them after the wait. The child
 *                                   gets there the cheapest way the kernel has:
 *                                   v2: clone3(CLONE_INTO_CGROUP); v1: the
 *                                   child writes "0" (itself, one thread) to
 *                                   each `tasks` file, which skips the global
 *                                   threadgroup lock and its RCU grace period
 *   floor ROOTFS CGROUP-NAME procs  the same, but the parent writes the child's
 *                                   pid to each cgroup.procs (what runc and
 *                                   crun do on v1: every write takes the
 *                                   global cgroup_threadgroup_rwsem)
 *
 * No config parsing, no capabilities, no seccomp, no devices, no state: the
 * difference between a runtime and this program is the runtime's own work.
 * Exit status: the child's, or 125 when a step failed (message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_HIERARCHIES 32

static char cg_dirs[MAX_HIERARCHIES][PATH_MAX];
static int n_cg;

static void die(const char *what, const char *arg) {
  fprintf(stderr, "floor: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
  _exit(125);
}

/* Mount points of cgroup/cgroup2 filesystems that are visible (the last mount
 * on a path wins: bench/run.py hides the hybrid host's unified hierarchy under
 * a tmpfs, and a runtime then sees only the v1 controllers). */
static void find_hierarchies(void) {
  static char points[64][PATH_MAX];
  static int is_cg[64];
  int n = 0;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) die("open", "/proc/self/mountinfo");
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    char point[PATH_MAX], fstype[64];
    /* id parent maj:min root point options [optional...] - fstype source superopts */
    if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1) continue;
    char *sep = strstr(line, " - ");
    if (!sep || sscanf(sep + 3, "%63s", fstype) != 1) continue;
    int cg = strcmp(fstype, "cgroup") == 0 || strcmp(fstype, "cgroup2") == 0;
    int i;
    for (i = 0; i < n; i++)
      if (strcmp(points[i], point) == 0) break;
    if (i == n) {
      if (n == 64) continue;
      snprintf(points[n++], PATH_MAX, "%s", point);
    }
    is_cg[i] = cg;
  }
  fclose(f);
  for (int i = 0; i < n && n_cg < MAX_HIERARCHIES; i++)
    if (is_cg[i]) snprintf(cg_dirs[n_cg++], PATH_MAX, "%s", points[i]);
}

static void write_str(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die("open", path);
  if (write(fd, s, strlen(s)) < 0) die("write", path);
  close(fd);
}

/* A new v1 cpuset cgroup has no cpus and mems: copy the parent's, as a
 * runtime must before it can attach anything. */
static void cpuset_inherit(const char *dir) {
  static const char *files[] = {"cpuset.cpus", "cpuset.mems"};
  for (int i = 0; i < 2; i++) {
    char path[PATH_MAX + 32], val[4096];
    snprintf(path, sizeof path, "%s/../%s", dir, files[i]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return; /* not a v1 cpuset hierarchy */
    ssize_t n = read(fd, val, sizeof val - 1);
    close(fd);
    if (n < 0) die("read", path);
    val[n] = 0;
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    write_str(path, val);
  }
}

static int self_attach; /* v1 "self": the child writes "0" to each tasks file */

static int child(const char *rootfs, int sync_fd) {
  if (sync_fd >= 0) {
    char c;
    if (read(sync_fd, &c, 1) != 1) _exit(125); /* parent failed */
    close(sync_fd);
  }
  if (self_attach) {
    char path[PATH_MAX + 16];
    for (int i = 0; i < n_cg; i++) {
      snprintf(path, sizeof path, "%s/tasks", cg_dirs[i]);
      write_str(path, "0");
    }
  }
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private", NULL);
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind", rootfs);
  if (chdir(rootfs) < 0) die("chdir", rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root", rootfs);
  if (umount2(".", MNT_DETACH) < 0) die("umount old root", NULL);
  if (chdir("/") < 0) die("chdir", "/");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    die("mount", "/proc");
  char *argv[] = {"/bin/true", NULL};
  char *envp[] = {"PATH=/bin", NULL};
  execve(argv[0], argv, envp);
  die("exec", argv[0]);
  return 125;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 4 || (argc == 4 && strcmp(argv[3], "self") && strcmp(argv[3], "procs"))) {
    fprintf(stderr, "usage: floor ROOTFS [CGROUP-NAME [self|procs]]\n");
    return 2;
  }
  const char *rootfs = argv[1], *cg_name = argc >= 3 ? argv[2] : NULL;
  int by_parent = argc == 4 && strcmp(argv[3], "procs") == 0;
  int sync[2] = {-1, -1}, v2_fd = -1;
  if (cg_name) {
    find_hierarchies();
    for (int i = 0; i < n_cg; i++) {
      size_t len = strlen(cg_dirs[i]);
      snprintf(cg_dirs[i] + len, PATH_MAX - len, "/%s", cg_name);
      if (mkdir(cg_dirs[i], 0755) < 0) die("mkdir", cg_dirs[i]);
      cpuset_inherit(cg_dirs[i]);
    }
    char probe[PATH_MAX + 16];
    snprintf(probe, sizeof probe, "%s/tasks", n_cg ? cg_dirs[0] : "");
    int v1 = n_cg > 0 && access(probe, F_OK) == 0;
    if (by_parent) {
      if (pipe2(sync, O_CLOEXEC) < 0) die("pipe", NULL);
    } else if (v1) {
      self_attach = 1;
    } else if (n_cg == 1) {
      v2_fd = open(cg_dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (v2_fd < 0) die("open", cg_dirs[0]);
    }
  }
  pid_t pid;
  if (v2_fd >= 0) {
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_INTO_CGROUP;
    ca.exit_signal = SIGCHLD;
    ca.cgroup = (unsigned long long)v2_fd;
    pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  } else {
    long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
    pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
  }
  if (pid < 0) die("clone", NULL);
  if (pid == 0) {
    if (sync[1] >= 0) close(sync[1]);
    return child(rootfs, sync[0]);
  }
  if (v2_fd >= 0) close(v2_fd);
  if (by_parent) {
    close(sync[0]);
    char buf[32], path[PATH_MAX + 16];
    snprintf(buf, sizeof buf, "%d", pid);
    for (int i = 0; i < n_cg; i++) {
      snprintf(path, sizeof path, "%s/cgroup.procs", cg_dirs[i]);
      write_str(path, buf);
    }
    if (write(sync[1], "x", 1) != 1) die("release child", NULL);
    close(sync[1]);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("wait", NULL);
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  for (int i = 0; i < n_cg; i++)
    if (rmdir(cg_dirs[i]) < 0) die("rmdir", cg_dirs[i]);
  return rc;
}
