// Descriptors, manifests and indexes <-> JSON. Docker's schema2 manifest and
// manifest list have the same fields as OCI's manifest and index, so one
// reader serves both; the media type tells them apart where it is given.
#include "oci/image.hpp"
#include "oci/image_reader.hpp"

namespace berth::oci {

using detail::fail_at;
using detail::json;
using detail::Need;
using detail::Obj;

namespace {

bool is_manifest_type(std::string_view mt) { return mt == media::oci_manifest || mt == media::docker_manifest; }
bool is_index_type(std::string_view mt) { return mt == media::oci_index || mt == media::docker_list; }

// schemaVersion: 2, or the schema1 message for 1 (and for schema1's types).
Result<int> read_schema_version(const Obj &o, const std::string &media_type) {
  if (detail::is_schema1_type(media_type)) return fail_msg(detail::kSchema1);
  int v = 0;
  TRY(o.get("schemaVersion", v, Need::required));
  if (v == 1) return fail_msg(detail::kSchema1);
  if (v != 2) return fail_at(o.at("schemaVersion"), "must be 2, got " + std::to_string(v));
  return v;
}

std::string dump(const json &j) {
  // replace: a string that is not UTF-8 (from a caller, not from a parsed
  // document) is written with U+FFFD rather than throwing.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Manifest> read_manifest(const json &j) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, ""));
  Manifest m;
  TRY(o.get("mediaType", m.media_type));
  ASSIGN_OR_RETURN(m.schema_version, read_schema_version(o, m.media_type));
  if (is_index_type(m.media_type))
    return fail_at("mediaType", "'" + m.media_type + "' is an image index, not a manifest");
  if (!m.media_type.empty() && !is_manifest_type(m.media_type))
    return fail_at("mediaType", "unsupported manifest media type '" + m.media_type + "' (expected " +
                                    std::string(media::oci_manifest) + " or " + std::string(media::docker_manifest) + ")");
  if (m.media_type.empty() && o.find("manifests") && !o.find("config"))
    return fail_msg("the document is an image index (it has \"manifests\"), not a manifest");
  TRY(o.get("artifactType", m.artifact_type));
  ASSIGN_OR_RETURN(const json *config, o.need("config"));
  ASSIGN_OR_RETURN(m.config, detail::read_descriptor(*config, "config"));
  TRY(o.each("layers", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(auto d, detail::read_descriptor(v, p));
    m.layers.push_back(std::move(d));
    return {};
  }));
  if (const json *s = o.find("subject")) {
    ASSIGN_OR_RETURN(m.subject, detail::read_descriptor(*s, "subject"));
  }
  TRY(o.get("annotations", m.annotations));
  return m;
}

Result<Index> read_index(const json &j) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, ""));
  Index x;
  TRY(o.get("mediaType", x.media_type));
  ASSIGN_OR_RETURN(x.schema_version, read_schema_version(o, x.media_type));
  if (is_manifest_type(x.media_type))
    return fail_at("mediaType", "'" + x.media_type + "' is an image manifest, not an index");
  if (!x.media_type.empty() && !is_index_type(x.media_type))
    return fail_at("mediaType", "unsupported index media type '" + x.media_type + "' (expected " +
                                    std::string(media::oci_index) + " or " + std::string(media::docker_list) + ")");
  // Required, though it may be empty (image-index.md).
  TRY(o.need("manifests"));
  TRY(o.each("manifests", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(auto d, detail::read_descriptor(v, p));
    x.manifests.push_back(std::move(d));
    return {};
  }));
  TRY(o.get("annotations", x.annotations));
  return x;
}

} // namespace

namespace detail {

Result<Digest> read_digest(const json &j, const std::string &path) {
  ASSIGN_OR_RETURN(std::string s, read_string(j, path));
  auto d = Digest::parse(s);
  if (!d) return fail_at(path, d.error().message());
  return d;
}

Result<Descriptor> read_descriptor(const json &j, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, path));
  Descriptor d;
  TRY(o.get("mediaType", d.media_type, Need::required));
  ASSIGN_OR_RETURN(const json *digest, o.need("digest"));
  ASSIGN_OR_RETURN(d.digest, read_digest(*digest, o.at("digest")));
  TRY(o.get("size", d.size, Need::required));
  // A negative size would pass for "unknown" in code that compares lengths.
  if (d.size < 0) return fail_at(o.at("size"), "must not be negative, got " + std::to_string(d.size));
  TRY(o.get("urls", d.urls));
  TRY(o.get("annotations", d.annotations));
  if (const json *p = o.find("platform")) {
    ASSIGN_OR_RETURN(d.platform, read_platform(*p, o.at("platform")));
  }
  TRY(o.get("artifactType", d.artifact_type));
  return d;
}

} // namespace detail

Result<Descriptor> parse_descriptor(const nlohmann::json &j) { return detail::read_descriptor(j, ""); }

Result<Manifest> parse_manifest(std::string_view text) {
  auto j = detail::parse_document(text);
  if (!j) return fail(std::move(j).error().with("manifest"));
  auto m = read_manifest(*j);
  if (!m) return fail(std::move(m).error().with("manifest"));
  return m;
}

Result<Index> parse_index(std::string_view text) {
  auto j = detail::parse_document(text);
  if (!j) return fail(std::move(j).error().with("image index"));
  auto x = read_index(*j);
  if (!x) return fail(std::move(x).error().with("image index"));
  return x;
}

Result<DocKind> doc_kind(std::string_view text, std::string_view content_type) {
  auto bad = [](const std::string &why) { return fail_msg("manifest or index: " + why); };
  auto j = detail::parse_document(text);
  if (!j) return fail(std::move(j).error().with("manifest or index"));
  if (!j->is_object()) return fail(detail::type_error("", "an object", *j).error().with("manifest or index"));
  auto kind_of = [&](std::string_view mt, const char *where) -> std::optional<Result<DocKind>> {
    if (detail::is_schema1_type(mt)) return bad(detail::kSchema1);
    if (is_manifest_type(mt)) return DocKind::manifest;
    if (is_index_type(mt)) return DocKind::index;
    if (where) return bad(std::string(where) + " '" + std::string(mt.substr(0, 200)) + "' is neither a manifest nor an index");
    return std::nullopt;
  };
  auto mt = j->find("mediaType");
  if (mt != j->end() && !mt->is_null()) {
    if (!mt->is_string()) return fail(detail::type_error("mediaType", "a string", *mt).error().with("manifest or index"));
    return *kind_of(mt->get_ref<const std::string &>(), "mediaType");
  }
  // "application/vnd.oci.image.index.v1+json; charset=utf-8": the type alone.
  std::string_view ct = content_type.substr(0, content_type.find(';'));
  while (!ct.empty() && (ct.back() == ' ' || ct.back() == '\t')) ct.remove_suffix(1);
  // Registries send application/json and octet-stream too: then the shape decides.
  if (auto k = kind_of(ct, nullptr)) return *k;
  auto sv = j->find("schemaVersion");
  if (sv != j->end() && sv->is_number_integer() && sv->get<int64_t>() == 1) return bad(detail::kSchema1);
  if (j->contains("manifests")) return DocKind::index;
  if (j->contains("config") || j->contains("layers")) return DocKind::manifest;
  return bad("no mediaType, and neither \"manifests\" (an index) nor \"config\" (a manifest)");
}

nlohmann::json to_json(const Descriptor &d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) j["platform"] = to_json(*d.platform);
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  return j;
}

std::string to_json_string(const Manifest &m) {
  json j = {{"schemaVersion", 2},
            {"mediaType", m.media_type.empty() ? std::string(media::oci_manifest) : m.media_type},
            {"config", to_json(m.config)}};
  json layers = json::array();
  for (const auto &l : m.layers) layers.push_back(to_json(l));
  j["layers"] = std::move(layers); // required, even when empty
  if (!m.artifact_type.empty()) j["artifactType"] = m.artifact_type;
  if (m.subject) j["subject"] = to_json(*m.subject);
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return dump(j);
}

std::string to_json_string(const Index &x) {
  json j = {{"schemaVersion", 2}, {"mediaType", x.media_type.empty() ? std::string(media::oci_index) : x.media_type}};
  json list = json::array();
  for (const auto &d : x.manifests) list.push_back(to_json(d));
  j["manifests"] = std::move(list);
  if (!x.annotations.empty()) j["annotations"] = x.annotations;
  return dump(j);
}

} // namespace berth::oci
