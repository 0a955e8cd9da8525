// berth-runtime: runc's command line over the runtime library. Thin: parse
// flags, call one operation, print, exit code.
#include "common/file.hpp"
#include "common/log.hpp"
#include "linux/sealed_exe.hpp"
#include "linux/signals.hpp"
#include "oci/features.hpp"
#include "oci/spec_json.hpp"
#include "oci/state.hpp"
#include "runtime/runtime.hpp"
#include "runtime/version.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

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
    std::istringstream in(line);
    std::vector<std::string> cols;
    for (std::string w; in >> w;) cols.push_back(w);
    if (header) {
      for (size_t i = 0; i < cols.size(); i++)
        if (cols[i] == "PID") pid_col = int(i);
      std::fputs(line, stdout);
      header = false;
      continue;
    }
    if (pid_col < 0 || size_t(pid_col) >= cols.size()) continue;
    pid_t p = pid_t(std::atoi(cols[size_t(pid_col)].c_str()));
    for (pid_t q : pids)
      if (p == q) std::fputs(line, stdout);
  }
  int st = ::pclose(f);
  if (pid_col < 0) return report(Error::msg("ps: no PID column in the output of " + cmd));
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

// runc stops parsing exec's flags at the container id: what follows is the
// command, even when it looks like a flag ("exec ID sh -c ..."). CLI11 would
// take it for flags, so the command is cut off here and returned in command.
std::vector<std::string> split_exec_command(int argc, char **argv, std::vector<std::string> &command) {
  static const std::set<std::string> global_values = {"--root", "--log", "--log-format", "--criu"};
  static const std::set<std::string> exec_values = {"-p", "--process", "--console-socket", "--pid-file",
                                                    "--cwd", "-e", "--env", "-u", "--user",
                                                    "-g", "--additional-gids", "-c", "--cap",
                                                    "--preserve-fds", "--apparmor", "--process-label"};
  std::vector<std::string> args(argv, argv + argc);
  size_t i = 1;
  while (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
    i += global_values.count(args[i]) ? 2 : 1;
  }
  if (i >= args.size() || args[i] != "exec") return args;
  for (i++; i < args.size(); i++) {
    if (args[i] == "--") {
      command.assign(args.begin() + long(i) + 1, args.end());
      args.resize(i);
      return args;
    }
    if (args[i].size() > 1 && args[i][0] == '-') {
      if (exec_values.count(args[i])) i++;
      continue;
    }
    command.assign(args.begin() + long(i) + 1, args.end());
    if (!command.empty() && command[0] == "--") command.erase(command.begin());
    args.resize(i + 1);
    return args;
  }
  return args;
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
  CLI::App app{"berth-runtime: an OCI runtime (runtime-spec 1.3) with runc's command line"};
  app.require_subcommand(0, 1);
  app.set_version_flag("-v,--version", std::string("berth-runtime version ") + kVersion + "\nspec: " + oci::kSpecVersion);

  runtime::GlobalOptions g;
  std::string log_file, log_format = "text", rootless;
  bool debug = false;
  app.add_option("--root", g.root, "directory for container state (default /run/berth-runtime)");
  app.add_option("--log", log_file, "append log records to this file (default stderr)");
  app.add_option("--log-format", log_format, "log format: text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", debug, "log debug records");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup, "use the systemd cgroup driver (not available)");
  app.add_option("--rootless", rootless, "rootless mode: true, false or auto")->expected(0, 1);
  std::string criu;
  app.add_option("--criu", criu, "ignored (checkpointing is not supported)")->group("");

  // Shared create/run flags.
  runtime::CreateOptions co;
  auto add_create_flags = [&](CLI::App *c) {
    c->add_option("id", co.id, "container id")->required();
    c->add_option("-b,--bundle", co.bundle, "bundle directory (default: current directory)");
    c->add_option("--pid-file", co.pid_file, "write the init's pid to this file");
    c->add_option("--console-socket", co.console_socket, "unix socket to send the pty master to");
    c->add_flag("--no-pivot", co.no_pivot, "use MS_MOVE + chroot instead of pivot_root");
    c->add_flag("--no-new-keyring", co.no_new_keyring, "do not create a new session keyring");
    c->add_option("--preserve-fds", co.preserve_fds, "pass this many extra fds (from 3 on) to the container");
  };

  auto *spec_cmd = app.add_subcommand("spec", "write a default config.json into the bundle");
  std::string spec_bundle = ".";
  bool spec_rootless = false;
  spec_cmd->add_option("-b,--bundle", spec_bundle, "bundle directory");
  spec_cmd->add_flag("--rootless", spec_rootless, "a config for a rootless container");

  auto *create_cmd = app.add_subcommand("create", "create a container, its init parked until start");
  add_create_flags(create_cmd);
  auto *run_cmd = app.add_subcommand("run", "create and start a container; wait for it unless -d");
  add_create_flags(run_cmd);
  bool detach = false, keep = false;
  run_cmd->add_flag("-d,--detach", detach, "detach from the container's process");
  run_cmd->add_flag("--keep", keep, "do not delete the container after it exits");

  std::string id;
  auto *start_cmd = app.add_subcommand("start", "start a created container");
  start_cmd->add_option("id", id, "container id")->required();
  auto *state_cmd = app.add_subcommand("state", "print a container's state as JSON");
  state_cmd->add_option("id", id, "container id")->required();

  auto *list_cmd = app.add_subcommand("list", "list containers");
  std::string format = "table";
  bool quiet = false;
  list_cmd->add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
  list_cmd->add_flag("-q,--quiet", quiet, "print ids only");

  auto *kill_cmd = app.add_subcommand("kill", "send a signal to a container's init (default TERM)");
  std::string signal = "TERM";
  bool all = false;
  kill_cmd->add_option("id", id, "container id")->required();
  kill_cmd->add_option("signal", signal, "signal name or number");
  kill_cmd->add_flag("-a,--all", all, "signal every process in the container");

  auto *delete_cmd = app.add_subcommand("delete", "delete a stopped container (--force: any)");
  bool force = false;
  delete_cmd->add_option("id", id, "container id")->required();
  delete_cmd->add_flag("-f,--force", force, "kill the container first if it runs");

  auto *ps_cmd = app.add_subcommand("ps", "list the processes of a container");
  std::vector<std::string> ps_args;
  ps_cmd->add_option("id", id, "container id")->required();
  ps_cmd->add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
  ps_cmd->add_option("ps-args", ps_args, "arguments for ps (after --)");

  auto *pause_cmd = app.add_subcommand("pause", "freeze every process of a container");
  pause_cmd->add_option("id", id, "container id")->required();
  auto *resume_cmd = app.add_subcommand("resume", "thaw a paused container");
  resume_cmd->add_option("id", id, "container id")->required();

  auto *update_cmd = app.add_subcommand("update", "change the resource limits of a running container");
  std::string resources_file;
  std::map<std::string, std::string> uflags;
  update_cmd->add_option("id", id, "container id")->required();
  update_cmd->add_option("-r,--resources", resources_file, "linux.resources JSON file (- for stdin)");
  for (const char *f : {"--memory", "--memory-reservation", "--memory-swap", "--kernel-memory",
                        "--kernel-memory-tcp", "--cpu-shares", "--cpu-quota", "--cpu-period",
                        "--cpu-rt-runtime", "--cpu-rt-period", "--cpuset-cpus", "--cpuset-mems",
                        "--pids-limit", "--blkio-weight"})
    update_cmd->add_option(f, uflags[f + 2], std::string("runc's ") + f);

  auto *events_cmd = app.add_subcommand("events", "print a container's resource usage as JSON");
  bool stats_once = false;
  std::string interval = "5s";
  events_cmd->add_option("id", id, "container id")->required();
  events_cmd->add_flag("--stats", stats_once, "print one record and exit");
  events_cmd->add_option("--interval", interval, "time between records (default 5s)");

  auto *features_cmd = app.add_subcommand("features", "print what this runtime supports (JSON)");

  runtime::ExecOptions eo;
  auto *exec_cmd = app.add_subcommand("exec", "run a new process in a running container");
  exec_cmd->add_option("id", eo.id, "container id")->required();
  exec_cmd->add_option("command", eo.args, "command and its arguments");
  exec_cmd->add_option("-p,--process", eo.process_file, "process.json to run (- for stdin)");
  exec_cmd->add_flag("-d,--detach", eo.detach, "do not wait for the process");
  exec_cmd->add_flag("-t,--tty", eo.tty, "allocate a pseudo-terminal");
  exec_cmd->add_option("--console-socket", eo.console_socket, "unix socket to send the pty master to");
  exec_cmd->add_option("--pid-file", eo.pid_file, "write the process's pid to this file");
  exec_cmd->add_option("--cwd", eo.cwd, "working directory inside the container");
  exec_cmd->add_option("-e,--env", eo.env, "environment variable NAME=VALUE (repeatable)")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  exec_cmd->add_option("-u,--user", eo.user, "UID[:GID]");
  exec_cmd->add_option("-g,--additional-gids", eo.additional_gids, "additional group id (repeatable)")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  exec_cmd->add_option("-c,--cap", eo.caps, "add a capability (repeatable)")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  exec_cmd->add_flag("--no-new-privs", eo.no_new_privs, "set no_new_privs");
  exec_cmd->add_option("--apparmor", eo.apparmor, "AppArmor profile for the process");
  exec_cmd->add_option("--process-label", eo.process_label, "SELinux label for the process");
  exec_cmd->add_option("--preserve-fds", eo.preserve_fds, "pass this many extra fds (from 3 on)");
  exec_cmd->positionals_at_end();

  std::vector<std::string> command;
  std::vector<std::string> args = split_exec_command(argc, argv, command);
  std::vector<char *> cargv;
  for (auto &a : args) cargv.push_back(a.data());
  try {
    app.parse(int(cargv.size()), cargv.data());
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() != 0) {
      std::fprintf(stderr, "berth-runtime: %s\n", e.what());
      if (app.get_subcommands().empty() && std::string(e.what()).find("subcommand") != std::string::npos) return 1;
      return 1;
    }
    return app.exit(e);
  }

  if (!log_file.empty()) {
    g_log_fd = ::open(log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (g_log_fd < 0) return report(Error::last("open log file " + log_file));
  }
  g_log_json = log_format == "json";
  log::set_sink(sink);
  if (debug) log::set_min_level(log::Level::Debug);
  // runc: --rootless with no value or "auto" decides from who we are.
  if (rootless != "true" && rootless != "false" && rootless != "auto" && !rootless.empty())
    return report(Error::msg("--rootless: invalid value \"" + rootless + "\" (true, false or auto)"));
  g.rootless = rootless == "true" || (rootless != "false" && runtime::running_rootless());
  if (g.rootless && app.get_option("--root")->count() == 0) g.root = runtime::rootless_state_root();

  if (app.get_subcommands().empty()) {
    std::fputs(app.help().c_str(), stderr);
    return 1;
  }
  CLI::App *cmd = app.get_subcommands().front();
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
      for (auto &s : *st) a.push_back(nlohmann::json::parse(oci::state_to_json(s, false)));
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
    eo.args.insert(eo.args.end(), command.begin(), command.end());
    auto st = runtime::exec(g, eo);
    if (!st) return report(st.error());
    return *st;
  }
  if (!r) return report(r.error());
  return 0;
}
