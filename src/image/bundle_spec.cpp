// Image config -> config.json, as image-spec's conversion.md says, on top of
// berth-runtime's default spec (namespaces, capabilities, mounts, masks).
#include "image/bundle.hpp"

#include "common/file.hpp"
#include "common/strings.hpp"
#include "linux/inroot.hpp"
#include "oci/spec_json.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace berth::image {
namespace {

using json = nlohmann::json;

std::optional<uint32_t> number(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The lines of /etc/passwd or /etc/group in the image ("" when it has none).
std::string read_etc(int rootfd, const char *file) {
  auto fd = linuxf::open_in_root(rootfd, file, O_RDONLY);
  if (!fd) return {};
  auto text = read_fd(fd->get(), file, 8u << 20);
  return text ? *text : std::string();
}

struct User {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional;
};

// Config.User: "user", "uid", "user:group", "uid:gid" (names from the image).
Result<User> resolve_user(const std::string &spec, int rootfd) {
  User u;
  if (spec.empty()) return u;
  auto colon = spec.find(':');
  std::string user = spec.substr(0, colon);
  std::string group = colon == std::string::npos ? "" : spec.substr(colon + 1);
  auto bad = [&](const std::string &why) { return fail_msg("image Config.User '" + spec + "': " + why); };
  // A numeric uid needs no entry (gid 0 then, as docker); a name does.
  auto uid = number(user);
  bool found = false;
  std::string user_name;
  each_line(read_etc(rootfd, "/etc/passwd"), [&](std::string_view line) {
    auto f = split(line, ':');
    if (found || f.size() < 4) return;
    auto fuid = number(f[2]), fgid = number(f[3]);
    if (!fuid || !fgid || (uid ? *fuid != *uid : f[0] != user)) return;
    u.uid = *fuid;
    u.gid = *fgid;
    user_name = std::string(f[0]);
    found = true;
  });
  if (uid) u.uid = *uid;
  else if (!found) return bad("no user '" + user + "' in the image's /etc/passwd");
  std::string groups = read_etc(rootfd, "/etc/group");
  if (!group.empty()) {
    if (auto n = number(group)) {
      u.gid = *n;
    } else {
      bool found = false;
      each_line(groups, [&](std::string_view line) {
        auto f = split(line, ':');
        if (!found && f.size() >= 3 && f[0] == group)
          if (auto g = number(f[2])) u.gid = *g, found = true;
      });
      if (!found) return bad("no group '" + group + "' in the image's /etc/group");
    }
  } else if (!user_name.empty() && !uid) {
    // Supplementary groups: those that list the user as a member.
    each_line(groups, [&](std::string_view line) {
      auto f = split(line, ':');
      if (f.size() < 4) return;
      auto g = number(f[2]);
      if (!g || *g == u.gid) return;
      for (auto m : split(f[3], ','))
        if (m == user_name) u.additional.push_back(*g);
    });
  }
  return u;
}

} // namespace

Result<std::string> bundle_config(const Image &img, int rootfd) {
  const oci::ImageConfig &c = img.config;
  json spec = json::parse(oci::default_spec_json(false));
  json &p = spec["process"];
  p["terminal"] = false;

  std::vector<std::string> args = c.entrypoint;
  args.insert(args.end(), c.cmd.begin(), c.cmd.end());
  if (args.empty())
    return fail_msg("image " + short_id(img.id()) + " has no command: its config sets neither Entrypoint nor Cmd");
  p["args"] = args;

  std::vector<std::string> env = c.env;
  bool has_path = false;
  for (auto &e : env) has_path = has_path || e.starts_with("PATH=");
  if (!has_path) env.insert(env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  p["env"] = env;
  // A relative WorkingDir is taken from / (as docker); cwd must be absolute.
  p["cwd"] = c.working_dir.empty() ? "/" : c.working_dir.front() == '/' ? c.working_dir : "/" + c.working_dir;

  ASSIGN_OR_RETURN(User u, resolve_user(c.user, rootfd));
  p["user"] = {{"uid", u.uid}, {"gid", u.gid}};
  if (!u.additional.empty()) p["user"]["additionalGids"] = u.additional;

  json ann = json::object();
  auto set = [&](const char *k, const std::string &v) {
    if (!v.empty()) ann[std::string("org.opencontainers.image.") + k] = v;
  };
  set("os", c.os);
  set("architecture", c.architecture);
  set("variant", c.variant);
  set("author", c.author);
  set("created", c.created);
  set("stopSignal", c.stop_signal);
  // os.version and os.features: not in ImageConfig's fields, in the document.
  if (auto v = c.raw.find("os.version"); v != c.raw.end() && v->is_string()) set("os.version", v->get<std::string>());
  if (auto f = c.raw.find("os.features"); f != c.raw.end() && f->is_array()) {
    std::string joined;
    for (auto &x : *f)
      if (x.is_string()) joined += (joined.empty() ? "" : ",") + x.get<std::string>();
    set("os.features", joined);
  }
  std::string ports;
  for (auto &port : c.exposed_ports) ports += (ports.empty() ? "" : ",") + port;
  set("exposedPorts", ports);
  for (auto &[k, v] : c.labels) ann[k] = v; // labels win (conversion.md)
  if (!ann.empty()) spec["annotations"] = ann;
  spec["root"] = {{"path", "rootfs"}, {"readonly", false}};
  return spec.dump(2) + "\n";
}

} // namespace berth::image
