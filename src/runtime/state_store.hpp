// Container state under --root: one directory per container holding
// state.json (written atomically) and, between create and start, exec.fifo.
// Mutating commands hold an exclusive flock on the directory.
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "oci/state.hpp"

#include <sys/types.h>

#include <string>
#include <vector>

namespace berth::runtime {

// What the runtime keeps about a container beyond the OCI state.
struct Record {
  oci::State oci;
  unsigned long long start_time = 0; // init's start time (/proc/pid/stat), guards pid reuse
  pid_t creator = 0;                  // pid of the create command while status is "creating"
  std::string cgroup;                 // cgroups::Manager::to_json()
  std::string hooks;                  // poststart/poststop hooks as JSON (run after create returns)
  bool userns = false;
};

// The OCI fields first, the runtime's large ones (hooks, cgroup) last, so
// that record_summary_from_json can stop before them.
std::string record_to_json(const Record &r);
Result<Record> record_from_json(std::string_view json, const std::string &what);
// The OCI state, start time and creator only (what `list` shows): parses up
// to the first large field. Files written before that order fall back to a
// whole parse.
Result<Record> record_summary_from_json(std::string_view json, const std::string &what);

class ContainerDir {
public:
  ContainerDir() = default;
  ContainerDir(std::string id, std::string path, UniqueFd fd)
      : id_(std::move(id)), path_(std::move(path)), fd_(std::move(fd)) {}
  const std::string &id() const { return id_; }
  const std::string &path() const { return path_; }
  int fd() const { return fd_.get(); }

  Result<> lock();     // exclusive, blocking
  Result<Record> read() const;
  Result<> write(const Record &r);
  bool has_fifo() const;

private:
  std::string id_, path_;
  UniqueFd fd_;
};

class StateStore {
public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}
  const std::string &root() const { return root_; }

  // Makes the container's directory; "already exists" if it does.
  Result<ContainerDir> create(const std::string &id);
  // Opens it; "does not exist" if it does not.
  Result<ContainerDir> open(const std::string &id) const;
  Result<std::vector<std::string>> list() const;
  // Each container's summary record and whether its exec.fifo is there
  // (created, not started): reads only state.json, from the root's fd.
  // Containers being created or deleted right now are skipped.
  struct Entry {
    Record rec;
    bool has_fifo = false;
  };
  Result<std::vector<Entry>> summaries() const;
  Result<> remove(const std::string &id);

private:
  std::string root_;
};

// Container ids as runc allows them: [A-Za-z0-9_+.-], not "." or "..".
Result<> validate_id(const std::string &id);

} // namespace berth::runtime
