#include "cgroups/paths.hpp"

#include "common/file.hpp"

#include <algorithm>
#include <array>
#include <optional>

namespace berth::cgroups {

namespace {

constexpr std::array<std::string_view, 14> kKnownV1 = {
    "cpuset",   "cpu",   "cpuacct",    "memory",  "devices", "freezer", "net_cls",
    "net_prio", "blkio", "perf_event", "hugetlb", "pids",    "rdma",    "misc"};

std::string_view next_field(std::string_view &s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  auto sp = s.find(' ');
  auto f = s.substr(0, sp);
  s.remove_prefix(sp == std::string_view::npos ? s.size() : sp);
  return f;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
      out += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto p = s.find(sep);
    if (p) out.emplace_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

std::vector<std::string> sorted_split(std::string_view s) {
  auto v = split(s, ',');
  std::sort(v.begin(), v.end());
  return v;
}

} // namespace

MountTable parse_mountinfo(std::string_view text) {
  MountTable t;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto sep = line.find(" - ");
    if (sep == std::string_view::npos) continue;
    std::string_view post = line.substr(sep + 3);
    std::string_view fstype = next_field(post);
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    next_field(post); // source
    std::string_view opts = next_field(post);
    std::string_view pre = line.substr(0, sep);
    next_field(pre), next_field(pre), next_field(pre); // id, parent, dev
    CgroupMount m;
    m.root = unescape(next_field(pre));
    m.mountpoint = unescape(next_field(pre));
    if (fstype == "cgroup2") {
      if (!t.has_v2) t.has_v2 = true, t.v2 = std::move(m);
      continue;
    }
    for (auto &o : split(opts, ',')) {
      bool known =
          o == "name=systemd" || std::find(kKnownV1.begin(), kKnownV1.end(), o) != kKnownV1.end();
      if (known) m.controllers.push_back(o);
    }
    if (m.controllers.empty()) continue;
    for (auto &c : m.controllers) m.name += (m.name.empty() ? "" : ",") + c;
    bool dup = std::any_of(t.v1.begin(), t.v1.end(), [&](auto &o) { return o.name == m.name; });
    if (!dup) t.v1.push_back(std::move(m));
  }
  return t;
}

Result<const MountTable *> mount_table() {
  static std::optional<MountTable> table;
  if (!table) {
    ASSIGN_OR_RETURN(std::string text, read_file("/proc/self/mountinfo"));
    table = parse_mountinfo(text);
  }
  return &*table;
}

Result<Layout> cached_layout() {
  static std::optional<Layout> layout;
  if (!layout) {
    ASSIGN_OR_RETURN(layout, detect_layout());
  }
  return *layout;
}

Result<CgroupsPath> parse_cgroups_path(const std::string &path, const std::string &id) {
  CgroupsPath p;
  if (path.empty()) {
    if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..")
      return fail_msg("cgroup path for container id \"" + id + "\": invalid id");
    p.rel = id;
    return p;
  }
  if (path.front() != '/' && std::count(path.begin(), path.end(), ':') == 2)
    return fail_msg("cgroupsPath \"" + path +
                    "\": the slice:prefix:name form needs the systemd cgroup driver, "
                    "which berth does not have; use a cgroupfs path such as /berth/<id>");
  p.absolute = path.front() == '/';
  for (auto &c : split(path, '/')) {
    if (c == ".") continue;
    if (c == "..") return fail_msg("cgroupsPath \"" + path + "\": \"..\" is not allowed");
    if (c.find('\n') != std::string::npos)
      return fail_msg("cgroupsPath \"" + path + "\": newline is not allowed");
    p.rel += (p.rel.empty() ? "" : "/") + c;
  }
  if (p.rel.empty())
    return fail_msg("cgroupsPath \"" + path + "\": names the cgroup root, not a container cgroup");
  return p;
}

Result<std::string> own_cgroup_in(std::string_view text, const std::string &name) {
  auto want = sorted_split(name);
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    auto ctrls = line.substr(c1 + 1, c2 - c1 - 1);
    if (name.empty() ? (ctrls.empty() && line.substr(0, c1) == "0") : sorted_split(ctrls) == want)
      return std::string(line.substr(c2 + 1));
  }
  return fail_msg("/proc/self/cgroup has no entry for the " +
                  (name.empty() ? std::string("cgroup2") : name) + " hierarchy");
}

Result<std::string> resolve_dir(const CgroupMount &m, const CgroupsPath &p) {
  if (p.absolute) return path_join(m.mountpoint, p.rel);
  static std::optional<std::string> self; // /proc/self/cgroup, read once
  if (!self) {
    ASSIGN_OR_RETURN(self, read_file("/proc/self/cgroup"));
  }
  ASSIGN_OR_RETURN(std::string own, own_cgroup_in(*self, m.name));
  // Paths in /proc/self/cgroup are relative to the hierarchy's root; the mount
  // may show only a subtree of it (a bind mount of a container's cgroup).
  std::string_view rel = own;
  if (m.root != "/" && rel.starts_with(m.root) &&
      (rel.size() == m.root.size() || rel[m.root.size()] == '/'))
    rel.remove_prefix(m.root.size());
  std::string dir = m.mountpoint;
  if (!rel.empty() && rel != "/") dir = path_join(dir, rel);
  return path_join(dir, p.rel);
}

} // namespace berth::cgroups
