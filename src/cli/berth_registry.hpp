// The registry commands of `berth`: pull and push (also `image pull|push`),
// login, logout and `manifest inspect`.
#pragma once

#include "cli/berth_common.hpp"
#include "cli/berth_push.hpp"
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
  enum class Op { pull, push, login, logout, manifest_inspect };
  std::map<const Command *, Op> run_;
  bool quiet = false, password_stdin = false;
  int jobs = 3;
  std::string platform, username, password, arg1;
  RegistryFlags reg;
  PushArgs push_args;
  int pull(const std::string &root);
  int login();
  int logout();
  int manifest_inspect();
};

} // namespace berth::cli
