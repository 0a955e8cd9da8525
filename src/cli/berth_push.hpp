// `berth push` (also `berth image push`): an image of the store to a
// registry, printed as docker prints it when not on a terminal. Its own file
// so that the parser's owner wires it in: add_push_flags on a Command, then
// push_command when that command was given.
#pragma once

#include "cli/berth_common.hpp"
#include "cli/flags.hpp"

#include <string>

namespace berth::cli {

struct PushArgs {
  RegistryFlags reg;
  std::string digestfile;
  std::string chunk_size; // bytes per PATCH (k, m, g: KiB, MiB, GiB); empty or 0: one PUT
  bool quiet = false;
  std::string name;        // the image: a name, or an id when destination is given
  std::string destination; // where to push it; empty: name
};

// The flags and arguments of push, into a.
void add_push_flags(Command &c, PushArgs &a);

// The exit status: 0; 1 when the push failed; 125 for a bad flag or
// reference (nothing changed). Errors are printed as "berth: push NAME: ...".
int push_command(const PushArgs &a, const std::string &root);

} // namespace berth::cli
