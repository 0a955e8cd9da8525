/* spawn.c: run one command for bench/run.py and measure it.
 *
 *   spawn FD COMMAND [ARG...]
 *
 * forks, execs COMMAND (stdio inherited), waits for it with wait4 and writes
 * "<wall ns> <ru_maxrss KiB> <wait status>\n" to FD (closed in COMMAND).
 *
 * Why not Python's own posix_spawn + wait4: at execve the kernel folds the
 * old address space's peak RSS into the new process's ru_maxrss, and a child
 * of Python starts with Python's (~15 MiB). Forked from this small static
 * program, the command starts with a few hundred KiB, so ru_maxrss is the
 * runtime's own peak. Every timed command of the benchmark goes through here,
 * so all runtimes pay the same (small) fork.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: spawn FD COMMAND [ARG...]\n");
    return 2;
  }
  int fd = 0;
  for (const char *p = argv[1]; *p; p++) fd = fd * 10 + (*p - '0');
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid < 0) {
    perror("spawn: fork");
    return 125;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* bench/run.py killed us on a timeout */
    execv(argv[2], argv + 2);
    fprintf(stderr, "spawn: exec %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("spawn: wait4");
      return 125;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
  char buf[96];
  int n = snprintf(buf, sizeof buf, "%lld %ld %d\n", ns, ru.ru_maxrss, status);
  if (write(fd, buf, (size_t)n) != n) return 125;
  return 0;
}
