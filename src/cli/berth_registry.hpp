// The registry commands of `berth`: pull (also `image pull`), login, logout
// and `manifest inspect`.
#pragma once

#include "cli/flags.hpp"

#include <map>
#include <string>

namespace berth::cli {

class RegistryCommands {
 public:
  enum class Where { top, image, manifest };
  void add_to(Parser &p, Where where);
  bool handles(const Command *c) const { return run_.count(c) > 0; }
  int run(const Command *c, const std::string &root);

 private:
  enum class Op { pull, login, logout, manifest_inspect };
  std::map<const Command *, Op> run_;
  bool quiet = false, password_stdin = false;
  int jobs = 3;
  std::string platform, tls_verify = "unset", cert_dir, creds, authfile, username, password, arg1;

  // The flags of every command that talks to a registry.
  Command &registry_flags(Command &c, bool with_creds = true);
  int pull(const std::string &root);
  int login();
  int logout();
  int manifest_inspect();
};

} // namespace berth::cli
