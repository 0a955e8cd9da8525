#include "runtime/state_store.hpp"

#include "common/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <utility>

namespace berth::runtime {

using nlohmann::json;

Result<Record> record_from_object(const json &j, const std::string &what);

namespace {

// The first of the large fields record_to_json writes last.
bool large_field(std::string_view key) { return key == "hooks" || key == "cgroup"; }

// nlohmann's DOM builder, stopped (parse returns false) at the first large
// field of the top-level object: what was read before it stays in the DOM.
struct SummarySax : nlohmann::detail::json_sax_dom_parser<json> {
  int depth = 0;
  bool stopped = false;
  explicit SummarySax(json &j) : json_sax_dom_parser(j, false) {}
  bool start_object(std::size_t n) {
    depth++;
    return json_sax_dom_parser::start_object(n);
  }
  bool end_object() {
    depth--;
    return json_sax_dom_parser::end_object();
  }
  bool key(json::string_t &k) {
    if (depth == 1 && large_field(k)) return !(stopped = true);
    return json_sax_dom_parser::key(k);
  }
};

} // namespace

std::string record_to_json(const Record &r) {
  const json state = oci::state_to_object(r.oci);
  nlohmann::ordered_json j;
  for (auto it = state.cbegin(); it != state.cend(); ++it) j[it.key()] = *it;
  j["startTime"] = r.start_time;
  if (r.creator) j["creator"] = r.creator;
  if (r.userns) j["userns"] = true;
  if (!r.hooks.empty()) j["hooks"] = r.hooks;
  if (!r.cgroup.empty()) j["cgroup"] = r.cgroup;
  return j.dump();
}

Result<Record> record_summary_from_json(std::string_view text, const std::string &what) {
  json j;
  SummarySax sax(j);
  bool ok = json::sax_parse(text, &sax, json::input_format_t::json, false) || sax.stopped;
  // A damaged file gets the whole parse's error; an older one (keys in
  // sorted order) may hold "cgroup" before "id".
  if (!ok || !j.is_object() || !j.contains("id")) return record_from_json(text, what);
  return record_from_object(j, what);
}

Result<Record> record_from_json(std::string_view text, const std::string &what) {
  return record_from_object(json::parse(text, nullptr, false), what);
}

Result<Record> record_from_object(const json &j, const std::string &what) {
  auto st = oci::parse_state(j);
  if (!st) return fail(st.error().with(what));
  Record r;
  r.oci = std::move(*st);
  auto bad = [&](const char *field, const char *want) {
    return fail_msg(what + ": " + field + ": expected " + want + ", got " + j[field].dump());
  };
  // Exact types: value() would throw on a string, or convert a float out of
  // range (undefined behaviour). These fields are ours, written by
  // record_to_json; anything else is a damaged file.
  if (auto it = j.find("startTime"); it != j.end()) {
    if (!it->is_number_unsigned()) return bad("startTime", "a non-negative integer");
    r.start_time = it->get<unsigned long long>();
  }
  if (auto it = j.find("creator"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT32_MAX)
      return bad("creator", "a process id");
    r.creator = pid_t(it->get<int64_t>());
  }
  for (auto [field, out] : {std::pair{"cgroup", &r.cgroup}, std::pair{"hooks", &r.hooks}}) {
    if (auto it = j.find(field); it != j.end()) {
      if (!it->is_string()) return bad(field, "a string");
      *out = it->get<std::string>();
    }
  }
  if (auto it = j.find("userns"); it != j.end()) {
    if (!it->is_boolean()) return bad("userns", "a boolean");
    r.userns = it->get<bool>();
  }
  return r;
}

Result<> ContainerDir::lock() {
  while (::flock(fd_.get(), LOCK_EX) < 0)
    if (errno != EINTR) return fail_errno("lock container " + id_);
  return {};
}

Result<Record> ContainerDir::read() const {
  auto fd = open_at(fd_.get(), "state.json", O_RDONLY);
  if (!fd) {
    if (fd.error().code() == ENOENT) return fail_msg("container " + id_ + " has no state yet (being created or deleted)");
    return fail(fd.error().with("read state of container " + id_));
  }
  // As large as the config's annotations may be (read_fd's default, the
  // config.json limit): a state create wrote must always read back.
  ASSIGN_OR_RETURN(std::string text, read_regular(fd->get(), path_ + "/state.json"));
  return record_from_json(text, "state of container " + id_);
}

Result<> ContainerDir::write(const Record &r) {
  TRY_CTX(write_file_atomic(fd_.get(), "state.json", record_to_json(r)), "write state of container " + id_);
  return {};
}

bool ContainerDir::has_fifo() const {
  struct stat st;
  return ::fstatat(fd_.get(), "exec.fifo", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

Result<> validate_id(const std::string &id) {
  if (id.empty()) return fail_msg("container id must not be empty");
  if (id == "." || id == ".." || id.size() > 1024)
    return fail_msg("invalid container id \"" + id + "\"");
  for (char c : id)
    if (!(isalnum((unsigned char)c) || c == '_' || c == '+' || c == '-' || c == '.'))
      return fail_msg("invalid container id \"" + id + "\": only letters, digits and _+.- are allowed");
  return {};
}

Result<ContainerDir> StateStore::create(const std::string &id) {
  TRY(validate_id(id));
  if (::mkdir(root_.c_str(), 0700) < 0 && errno != EEXIST) TRY_CTX(mkdir_all(root_, 0700), "create state root");
  std::string path = path_join(root_, id);
  if (::mkdir(path.c_str(), 0700) < 0) {
    if (errno == EEXIST) return fail_msg("container with id \"" + id + "\" already exists");
    return fail_errno("create state directory " + path);
  }
  ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_RDONLY | O_DIRECTORY));
  return ContainerDir(id, path, std::move(fd));
}

Result<ContainerDir> StateStore::open(const std::string &id) const {
  TRY(validate_id(id));
  std::string path = path_join(root_, id);
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return fail_msg("container \"" + id + "\" does not exist");
    return fail_errno("open state of container " + id);
  }
  return ContainerDir(id, path, UniqueFd(fd));
}

Result<std::vector<std::string>> StateStore::list() const {
  std::vector<std::string> ids;
  DIR *d = ::opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return ids;
    return fail_errno("list " + root_);
  }
  while (dirent *e = ::readdir(d)) {
    // Not containers: temporary names, the cache (seccomp_cache.hpp).
    if (!validate_id(e->d_name)) continue;
    if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) ids.emplace_back(e->d_name);
  }
  ::closedir(d);
  return ids;
}

Result<std::vector<StateStore::Entry>> StateStore::summaries() const {
  std::vector<Entry> out;
  ASSIGN_OR_RETURN(auto ids, list());
  UniqueFd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return ids.empty() ? Result<std::vector<Entry>>(out) : fail_errno("open " + root_);
  // The state files' fds are closed a batch at a time with one close_range:
  // on this kind of host every syscall costs several microseconds, and a
  // close per container was a fifth of list's time. Nothing else opens fds
  // meanwhile, so a batch is the contiguous range [first, last].
  int first = -1, last = -1;
  auto close_batch = [&] {
    if (first >= 0) ::syscall(SYS_close_range, first, last, 0);
    first = last = -1;
  };
  for (auto &id : ids) {
    if (first >= 0 && last - first >= 255) close_batch();
    int fd = ::openat(root.get(), (id + "/state.json").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue; // being created or deleted right now
    if (first < 0) first = fd;
    if (fd != last + 1 && last >= 0) { // not contiguous after all: close it alone
      close_batch();
      first = fd;
    }
    last = fd;
    auto text = read_regular(fd, root_ + "/" + id + "/state.json");
    if (!text) continue;
    auto rec = record_summary_from_json(*text, "state of container " + id);
    if (!rec) continue;
    // start removes the fifo before it records "running": only a container
    // recorded as created may have been started since.
    struct stat st;
    bool fifo = rec->oci.status == "created" &&
                ::fstatat(root.get(), (id + "/exec.fifo").c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    out.push_back({std::move(*rec), fifo});
  }
  close_batch();
  return out;
}

Result<> StateStore::remove(const std::string &id) {
  TRY(validate_id(id));
  return remove_tree(path_join(root_, id));
}

} // namespace berth::runtime
