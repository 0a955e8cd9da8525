// berth-runtime: runc's command line over the runtime library. Thin: parse
// flags, call one operation, print, exit code.
#include "cli/flags.hpp"
#include "common/file.hpp"
#include "common/strings.hpp"
#include "common/log.hpp"
#include "linux/sealed_exe.hpp"
#include "linux/signals.hpp"
#include "oci/features.hpp"
#include "oci/spec_json.hpp"
#include "oci/state.hpp"
#include "runtime/runtime.hpp"
#include "runtime/version.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>

using namespace berth;

namespace {

int g_log_fd = -1;
bool g_log_json = false;

std::string json_escape(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

void log_record(log::Level l, std::string_view msg) {
  char tb[40];
  std::string_view t = log::now_rfc3339(tb);
  std::string line;
  if (g_log_json)
    line = "{\"level\":\"" + std::string(log::level_name(l)) + "\",\"msg\":" + json_escape(msg) +
           ",\"time\":\"" + std::string(t) + "\"}\n";
  else
    line = "time=\"" + std::string(t) + "\" level=" + log::level_name(l) + " msg=" + json_escape(msg) + "\n";
  (void)!::write(g_log_fd, line.data(), line.size());
}

void sink(log::Level l, std::string_view msg) {
  if (g_log_fd >= 0) log_record(l, msg);
  else std::fprintf(stderr, "berth-runtime: %s: %.*s\n", log::level_name(l), int(msg.size()), msg.data());
}

int report(const Error &e) {
  std::fprintf(stderr, "berth-runtime: %s\n", e.message().c_str());
  if (g_log_fd >= 0) log_record(log::Level::Error, e.message());
  return 1;
}

void print_table(const std::vector<oci::State> &states) {
  std::printf("%-12s %-10s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (auto &s : states)
    std::printf("%-12s %-10d %-10s %-40s %-32s %s\n", s.id.c_str(), s.pid, s.status.c_str(), s.bundle.c_str(),
                s.created.c_str(), s.owner.empty() ? "root" : s.owner.c_str());
}

// `ps` in table form: the host's ps, filtered to the container's pids.
int ps_table(const std::vector<pid_t> &pids, const std::vector<std::string> &ps_args) {
  std::string cmd = "ps";
  for (auto &a : ps_args.empty() ? std::vector<std::string>{"-ef"} : ps_args) cmd += " '" + a + "'";
  FILE *f = ::popen(cmd.c_str(), "r");
  if (!f) return report(Error::last("run " + cmd));
  char line[8192];
  int pid_col = -1;
  bool header = true;
  while (std::fgets(line, sizeof line, f)) {
    std::vector<std::string_view> cols = words(std::string_view(line).substr(0, std::string_view(line).find('\n')));
    if (header) {
      for (size_t i = 0; i < cols.size(); i++)
        if (cols[i] == "PID") pid_col = int(i);
      std::fputs(line, stdout);
      header = false;
      continue;
    }
    if (pid_col < 0 || size_t(pid_col) >= cols.size()) continue;
    pid_t p = pid_t(std::atoi(std::string(cols[size_t(pid_col)]).c_str()));
    for (pid_t q : pids)
      if (p == q) std::fputs(line, stdout);
  }
  int st = ::pclose(f);
  if (pid_col < 0) return report(Error::msg("ps: no PID column in the output of " + cmd));
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

// "64m", "1g", "1024", "-1": bytes, as runc's --memory flags take them.
Result<int64_t> parse_bytes(const std::string &flag, const std::string &s) {
  if (s == "-1") return -1;
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  std::string unit = end ? end : "";
  for (auto &c : unit) c = char(std::tolower((unsigned char)c));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  double mult = unit.empty() ? 1 : unit == "k" ? 1024.0 : unit == "m" ? 1048576.0
              : unit == "g" ? 1073741824.0 : unit == "t" ? 1099511627776.0 : 0;
  if (end == s.c_str() || errno || v < 0 || mult == 0)
    return fail_msg(flag + ": invalid size \"" + s + "\" (e.g. 67108864, 64m, 1g)");
  return int64_t(v * mult);
}

// "5s", "500ms", "1m" -> milliseconds.
Result<long> parse_interval(const std::string &s) {
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string unit = end ? end : "";
  double ms = unit == "ms" ? v : unit == "s" || unit.empty() ? v * 1000 : unit == "m" ? v * 60000 : -1;
  if (end == s.c_str() || ms <= 0) return fail_msg("--interval: invalid duration \"" + s + "\" (e.g. 5s, 500ms)");
  return long(ms);
}

} // namespace

int main(int argc, char **argv) {
  cli::Parser app("berth-runtime", "an OCI runtime (runtime-spec 1.3) with runc's command line");
  runtime::GlobalOptions g;
  std::string log_file, log_format = "text", rootless, criu;
  bool debug = false;
  app.globals()
      .flag("--root DIR", "directory for container state (default /run/berth-runtime)", g.root)
      .flag("--log FILE", "append log records to this file (default stderr)", log_file)
      .flag("--log-format FORMAT", "log format: text or json", log_format, {"text", "json"})
      .flag("--debug", "log debug records", debug)
      .flag("--systemd-cgroup", "use the systemd cgroup driver (not available)", g.systemd_cgroup)
      .optional_value("--rootless", "rootless mode: true, false or auto (default)", rootless,
                      {"true", "false", "auto"})
      .flag("--criu PATH", "ignored (checkpointing is not supported)", criu)
      .hide_last();

  runtime::CreateOptions co;
  auto create_flags = [&](cli::Command &c) -> cli::Command & {
    return c.arg("ID", co.id)
        .flag("-b,--bundle DIR", "bundle directory (default: current directory)", co.bundle)
        .flag("--pid-file FILE", "write the init's pid to this file", co.pid_file)
        .flag("--console-socket SOCKET", "unix socket to send the pty master to", co.console_socket)
        .flag("--no-pivot", "use MS_MOVE + chroot instead of pivot_root", co.no_pivot)
        .flag("--no-new-keyring", "do not create a new session keyring", co.no_new_keyring)
        .flag("--preserve-fds", "pass this many extra fds (from 3 on) to the container", co.preserve_fds);
  };
  std::string id, format = "table", signal = "TERM", spec_bundle = ".", resources_file, interval = "5s";
  bool spec_rootless = false, detach = false, keep = false, quiet = false, all = false, force = false,
       stats_once = false;
  std::vector<std::string> ps_args;
  std::map<std::string, std::string> uflags;
  runtime::ExecOptions eo;
  std::vector<std::string> gids;

  auto *spec_cmd = &app.add("spec", "write a default config.json into the bundle")
                        .flag("-b,--bundle DIR", "bundle directory", spec_bundle)
                        .flag("--rootless", "a config for a rootless container", spec_rootless);
  auto *create_cmd = &create_flags(app.add("create", "create a container, its init parked until start"));
  auto *run_cmd = &create_flags(app.add("run", "create and start a container; wait for it unless -d"))
                       .flag("-d,--detach", "detach from the container's process", detach)
                       .flag("--keep", "do not delete the container after it exits", keep);
  auto *start_cmd = &app.add("start", "start a created container").arg("ID", id);
  auto *state_cmd = &app.add("state", "print a container's state as JSON").arg("ID", id);
  auto *list_cmd = &app.add("list", "list containers")
                        .flag("-f,--format FORMAT", "table or json", format, {"table", "json"})
                        .flag("-q,--quiet", "print ids only", quiet);
  auto *kill_cmd = &app.add("kill", "send a signal to a container's init (default TERM)")
                        .arg("ID", id)
                        .arg("SIGNAL", signal, false)
                        .flag("-a,--all", "signal every process in the container", all);
  auto *delete_cmd = &app.add("delete", "delete a stopped container (--force: any)")
                          .arg("ID", id)
                          .flag("-f,--force", "kill the container first if it runs", force);
  auto *ps_cmd = &app.add("ps", "list the processes of a container")
                      .arg("ID", id)
                      .flag("-f,--format FORMAT", "table or json", format, {"table", "json"})
                      .rest_args("PS-OPTIONS", ps_args);
  auto *pause_cmd = &app.add("pause", "freeze every process of a container").arg("ID", id);
  auto *resume_cmd = &app.add("resume", "thaw a paused container").arg("ID", id);
  auto *update_cmd = &app.add("update", "change the resource limits of a running container")
                          .arg("ID", id)
                          .flag("-r,--resources FILE", "linux.resources JSON file (- for stdin)", resources_file);
  for (const char *f : {"--memory", "--memory-reservation", "--memory-swap", "--kernel-memory",
                        "--kernel-memory-tcp", "--cpu-shares", "--cpu-quota", "--cpu-period",
                        "--cpu-rt-runtime", "--cpu-rt-period", "--cpuset-cpus", "--cpuset-mems",
                        "--pids-limit", "--blkio-weight"})
    update_cmd->flag(f, std::string("runc's ") + f, uflags[f + 2]);
  auto *events_cmd = &app.add("events", "print a container's resource usage as JSON")
                          .arg("ID", id)
                          .flag("--stats", "print one record and exit", stats_once)
                          .flag("--interval DURATION", "time between records (default 5s)", interval);
  auto *features_cmd = &app.add("features", "print what this runtime supports (JSON)");
  auto *exec_cmd = &app.add("exec", "run a new process in a running container")
                        .arg("ID", eo.id)
                        .rest_args("COMMAND", eo.args)
                        .flag("-p,--process FILE", "process.json to run (- for stdin)", eo.process_file)
                        .flag("-d,--detach", "do not wait for the process", eo.detach)
                        .flag("-t,--tty", "allocate a pseudo-terminal", eo.tty)
                        .flag("--console-socket SOCKET", "unix socket to send the pty master to", eo.console_socket)
                        .flag("--pid-file FILE", "write the process's pid to this file", eo.pid_file)
                        .flag("--cwd DIR", "working directory inside the container", eo.cwd)
                        .list("-e,--env NAME=VALUE", "environment variable NAME=VALUE", eo.env)
                        .flag("-u,--user UID[:GID]", "UID[:GID]", eo.user)
                        .list("-g,--additional-gids GID", "additional group id", gids)
                        .list("-c,--cap CAP", "add a capability", eo.caps)
                        .flag("--no-new-privs", "set no_new_privs", eo.no_new_privs)
                        .flag("--apparmor PROFILE", "AppArmor profile for the process", eo.apparmor)
                        .flag("--process-label LABEL", "SELinux label for the process", eo.process_label)
                        .flag("--preserve-fds", "pass this many extra fds (from 3 on)", eo.preserve_fds);

  auto parsed = app.parse(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "berth-runtime: %s\n", parsed.error().message().c_str());
    return 1;
  }
  if (parsed->version) {
    std::printf("berth-runtime version %s\nspec: %s\n", kVersion, oci::kSpecVersion);
    return 0;
  }
  if (parsed->help) {
    std::fputs((parsed->command ? app.help(*parsed->command) : app.help()).c_str(), stdout);
    return 0;
  }

  if (!log_file.empty()) {
    g_log_fd = ::open(log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (g_log_fd < 0) return report(Error::last("open log file " + log_file));
  }
  g_log_json = log_format == "json";
  log::set_sink(sink);
  if (debug) log::set_min_level(log::Level::Debug);
  // runc: --rootless with no value or "auto" decides from who we are.
  g.rootless = rootless == "true" || (rootless != "false" && runtime::running_rootless());
  bool root_given = false;
  for (auto &f : parsed->set) root_given |= f == "--root";
  if (g.rootless && !root_given) g.root = runtime::rootless_state_root();

  if (!parsed->command) {
    std::fputs(app.help().c_str(), stderr);
    return 1;
  }
  const cli::Command *cmd = parsed->command;
  // The commands that put a process into a container run from a read-only
  // view of this binary (CVE-2019-5736, linux/sealed_exe.hpp).
  if (cmd == create_cmd || cmd == run_cmd || cmd == exec_cmd) {
    if (auto s = linuxf::reexec_sealed(argv); !s)
      log::warn(s.error().message() + "; going on without that protection");
  }
  Result<> r;
  if (cmd == spec_cmd) {
    std::string path = path_join(spec_bundle, "config.json");
    if (path_exists(path)) return report(Error::msg("spec: " + path + " exists; remove it first"));
    r = write_path_atomic(path, oci::default_spec_json(spec_rootless) + "\n", 0644);
  } else if (cmd == create_cmd) {
    r = runtime::create(g, co);
  } else if (cmd == run_cmd) {
    auto st = runtime::run(g, co, detach, keep);
    if (!st) return report(st.error());
    return *st;
  } else if (cmd == start_cmd) {
    r = runtime::start(g, id);
  } else if (cmd == state_cmd) {
    auto st = runtime::state(g, id);
    if (!st) return report(st.error());
    std::printf("%s\n", oci::state_to_json(*st).c_str());
  } else if (cmd == list_cmd) {
    auto st = runtime::list(g);
    if (!st) return report(st.error());
    if (quiet) {
      for (auto &s : *st) std::printf("%s\n", s.id.c_str());
    } else if (format == "json") {
      nlohmann::json a = nlohmann::json::array();
      for (auto &s : *st) a.push_back(oci::state_to_object(s));
      std::printf("%s\n", a.dump().c_str());
    } else {
      print_table(*st);
    }
  } else if (cmd == kill_cmd) {
    // Signal 0 only checks that the container's init exists (runc accepts it).
    auto sig = signal == "0" ? Result<int>(0) : linuxf::parse_signal(signal);
    if (!sig) return report(sig.error().with("kill"));
    r = runtime::kill(g, id, *sig, all);
  } else if (cmd == delete_cmd) {
    r = runtime::remove(g, id, force);
  } else if (cmd == ps_cmd) {
    auto p = runtime::pids(g, id);
    if (!p) return report(p.error());
    if (format == "json") {
      std::printf("%s\n", nlohmann::json(*p).dump().c_str());
      return 0;
    }
    return ps_table(*p, ps_args);
  } else if (cmd == pause_cmd) {
    r = runtime::pause(g, id);
  } else if (cmd == resume_cmd) {
    r = runtime::resume(g, id);
  } else if (cmd == update_cmd) {
    oci::Resources res;
    if (!resources_file.empty()) {
      auto text = resources_file == "-" ? read_fd(0, "stdin") : read_file(resources_file);
      if (!text) return report(text.error().with("update --resources"));
      auto parsed = oci::parse_resources(*text);
      if (!parsed) return report(parsed.error().with("update --resources " + resources_file));
      res = std::move(*parsed);
    }
    auto num = [&](const char *f) -> Result<std::optional<int64_t>> {
      const std::string &v = uflags[f];
      if (v.empty()) return std::optional<int64_t>{};
      char *end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (*end) return fail_msg(std::string("--") + f + ": not a number: \"" + v + "\"");
      return std::optional<int64_t>(n);
    };
    auto bytes = [&](const char *f) -> Result<std::optional<int64_t>> {
      if (uflags[f].empty()) return std::optional<int64_t>{};
      auto b = parse_bytes(std::string("--") + f, uflags[f]);
      if (!b) return fail(b.error());
      return std::optional<int64_t>(*b);
    };
    Result<> bad;
    auto set_mem = [&](const char *f, std::optional<int64_t> oci::Memory::*field) {
      auto v = bytes(f);
      if (!v) bad = fail(v.error());
      else if (*v) {
        if (!res.memory) res.memory.emplace();
        (*res.memory).*field = **v;
      }
    };
    set_mem("memory", &oci::Memory::limit);
    set_mem("memory-reservation", &oci::Memory::reservation);
    set_mem("memory-swap", &oci::Memory::swap);
    set_mem("kernel-memory", &oci::Memory::kernel);
    set_mem("kernel-memory-tcp", &oci::Memory::kernel_tcp);
    auto cpu = [&]() -> oci::Cpu & {
      if (!res.cpu) res.cpu.emplace();
      return *res.cpu;
    };
    for (const char *f : {"cpu-shares", "cpu-quota", "cpu-period", "cpu-rt-runtime", "cpu-rt-period",
                          "pids-limit", "blkio-weight"}) {
      auto v = num(f);
      if (!v) {
        bad = fail(v.error());
        continue;
      }
      if (!*v) continue;
      int64_t n = **v;
      std::string k = f;
      if (k == "cpu-shares") cpu().shares = uint64_t(n);
      else if (k == "cpu-quota") cpu().quota = n;
      else if (k == "cpu-period") cpu().period = uint64_t(n);
      else if (k == "cpu-rt-runtime") cpu().realtime_runtime = n;
      else if (k == "cpu-rt-period") cpu().realtime_period = uint64_t(n);
      else if (k == "pids-limit") res.pids = oci::Pids{n};
      else if (k == "blkio-weight") {
        if (!res.block_io) res.block_io.emplace();
        res.block_io->weight = uint16_t(n);
      }
    }
    if (!uflags["cpuset-cpus"].empty()) cpu().cpus = uflags["cpuset-cpus"];
    if (!uflags["cpuset-mems"].empty()) cpu().mems = uflags["cpuset-mems"];
    if (!bad) return report(bad.error().with("update"));
    r = runtime::update(g, id, res);
  } else if (cmd == events_cmd) {
    auto ms = parse_interval(interval);
    if (!ms) return report(ms.error().with("events"));
    if (stats_once) {
      auto s = runtime::stats_json(g, id);
      if (!s) return report(s.error());
      std::printf("%s\n", s->c_str());
      return 0;
    }
    r = runtime::events(g, id, *ms, [](const std::string &line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    });
  } else if (cmd == features_cmd) {
    std::printf("%s\n", oci::features_json().c_str());
  } else if (cmd == exec_cmd) {
    for (auto &s : gids) {
      char *end = nullptr;
      errno = 0;
      unsigned long v = std::strtoul(s.c_str(), &end, 10);
      if (s.empty() || *end || errno || s[0] == '-' || v > UINT32_MAX)
        return report(Error::msg("exec: --additional-gids: not a group id: \"" + s + "\""));
      eo.additional_gids.push_back(unsigned(v));
    }
    auto st = runtime::exec(g, eo);
    if (!st) return report(st.error());
    return *st;
  }
  if (!r) return report(r.error());
  return 0;
}
