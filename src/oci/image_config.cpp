// The image config (config.md; Docker's image JSON v1.2 has the same keys):
// the fields the engine runs an image with, and the document kept whole for
// inspect.
#include "oci/image.hpp"
#include "oci/image_reader.hpp"

namespace berth::oci {

using detail::fail_at;
using detail::json;
using detail::Need;
using detail::Obj;

namespace {

// ExposedPorts and Volumes are sets written as {"80/tcp": {}}: the keys.
Result<> read_key_set(const Obj &o, std::string_view key, std::vector<std::string> &out) {
  return o.members(key, [&](const std::string &k, const json &, const std::string &) -> Result<> {
    out.push_back(k);
    return {};
  });
}

Result<> read_run_config(const json &j, ImageConfig &c) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, "config"));
  TRY(o.get("User", c.user));
  TRY(read_key_set(o, "ExposedPorts", c.exposed_ports));
  TRY(o.get("Env", c.env));
  // null (or absent) and [] differ: docker's `--entrypoint ""` writes [] to
  // clear an inherited entrypoint.
  c.entrypoint_set = o.find("Entrypoint") != nullptr;
  TRY(o.get("Entrypoint", c.entrypoint));
  c.cmd_set = o.find("Cmd") != nullptr;
  TRY(o.get("Cmd", c.cmd));
  TRY(read_key_set(o, "Volumes", c.volumes));
  TRY(o.get("WorkingDir", c.working_dir));
  TRY(o.get("Labels", c.labels));
  TRY(o.get("StopSignal", c.stop_signal));
  return {};
}

Result<ImageConfig> read_image_config(const json &j) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, ""));
  ImageConfig c;
  TRY(o.get("created", c.created));
  TRY(o.get("author", c.author));
  // REQUIRED in config.md, yet docker loads configs without them (moby
  // checks rootfs only): the platform check is the caller's.
  TRY(o.get("architecture", c.architecture));
  TRY(o.get("os", c.os));
  TRY(o.get("variant", c.variant));
  if (const json *rc = o.find("config")) TRY(read_run_config(*rc, c));

  ASSIGN_OR_RETURN(const json *rootfs, o.need("rootfs"));
  ASSIGN_OR_RETURN(Obj r, Obj::of(*rootfs, "rootfs"));
  std::string type;
  TRY(r.get("type", type, Need::required));
  if (type != "layers") return fail_at(r.at("type"), "must be \"layers\", got \"" + type + "\"");
  // Absent for an image of no layers: moby writes it with omitempty.
  TRY(r.each("diff_ids", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(auto d, detail::read_digest(v, p));
    c.diff_ids.push_back(std::move(d));
    return {};
  }));

  TRY(o.each("history", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj h, Obj::of(v, p));
    HistoryEntry e;
    TRY(h.get("created", e.created));
    TRY(h.get("created_by", e.created_by));
    TRY(h.get("author", e.author));
    TRY(h.get("comment", e.comment));
    TRY(h.get("empty_layer", e.empty_layer));
    c.history.push_back(std::move(e));
    return {};
  }));
  return c;
}

} // namespace

Result<ImageConfig> parse_image_config(std::string_view text) {
  auto j = detail::parse_document(text);
  if (!j) return fail(std::move(j).error().with("image config"));
  auto c = read_image_config(*j);
  if (!c) return fail(std::move(c).error().with("image config"));
  c->raw = std::move(*j);
  return c;
}

} // namespace berth::oci
