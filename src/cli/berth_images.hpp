// The image commands of `berth`, registered on a parser twice: at the top
// (images, rmi, tag, save, load, import, history, bundle) and under
// `berth image` (ls, inspect, rm, prune, tag, save, load, import, history).
#pragma once

#include "cli/flags.hpp"

#include <map>
#include <string>
#include <vector>

namespace berth::cli {

class ImageCommands {
 public:
  // top: the top-level names (images, rmi, ...); else those of `image`.
  void add_to(Parser &p, bool top);
  bool handles(const Command *c) const { return run_.count(c) > 0; }
  // The exit status; errors are printed as "berth: ...".
  int run(const Command *c, const std::string &root);

 private:
  enum class Op { ls, inspect, rm, prune, tag, save, load, import, history, bundle };
  std::map<const Command *, Op> run_;
  // Flags and arguments of all of them (one command runs per process).
  bool quiet = false, all = false, force = false, digests = false, no_trunc = false, copy = false,
       remove = false, human = true, no_prune = false;
  std::string format, output, input, platform, message, save_format = "docker-archive";
  std::string arg1, arg2;
  std::vector<std::string> args, changes, filters;
};

} // namespace berth::cli
