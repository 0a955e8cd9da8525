// runc's command line without a library: global flags, a command, then its
// flags and arguments, as urfave/cli (runc's parser) reads them and podman,
// docker and containerd write them. Replaces CLI11, whose option objects and
// <iostream> start-up were half of a short command's instructions and most
// of its resident memory.
//
//   --name value, --name=value, -n value   a flag with a value
//   --name, --name=true|false              a boolean flag
//   --                                     the rest are arguments
// A command's flags may come before or after its arguments, except where a
// command takes the rest of the line literally (exec's command, ps's ps
// options): everything after its last named argument is passed on as is.
#pragma once

#include "common/error.hpp"

#include <deque>
#include <string>
#include <vector>

namespace berth::cli {

struct Flag {
  enum Kind { Bool, Value, List, Int, OptionalValue };
  std::vector<std::string> names; // "-b", "--bundle"
  std::string help, value_name;
  Kind kind = Bool;
  void *target = nullptr;           // bool, std::string, std::vector<std::string> or int
  std::vector<std::string> choices; // Value: the allowed values (empty: any)
  bool hidden = false;
};

struct Command {
  std::string name, help;
  std::vector<Flag> flags;
  struct Arg {
    std::string name; // as in the usage line: ID, SIGNAL
    std::string *into;
    bool required;
  };
  std::vector<Arg> args;
  std::vector<std::string> *rest = nullptr; // what follows the named arguments
  std::string rest_name;
  bool rest_literal = true; // false: flags may come between them (many_args)

  // names: "-b,--bundle DIR" (DIR: the value's name in help). Each returns
  // *this, to chain.
  Command &flag(const std::string &names, const std::string &help, bool &into);
  Command &flag(const std::string &names, const std::string &help, std::string &into,
                std::vector<std::string> choices = {});
  Command &flag(const std::string &names, const std::string &help, int &into);
  Command &list(const std::string &names, const std::string &help, std::vector<std::string> &into);
  // A value that may be left out ("--rootless" alone gives ""): taken only
  // when it is one of choices or joined by '='.
  Command &optional_value(const std::string &names, const std::string &help, std::string &into,
                          std::vector<std::string> choices);
  Command &hide_last();
  Command &arg(const std::string &name, std::string &into, bool required = true);
  Command &rest_args(const std::string &name, std::vector<std::string> &into);
  // Any number of arguments after the named ones, with flags anywhere among
  // them, as docker's commands take them ("rmi a -f b").
  Command &many_args(const std::string &name, std::vector<std::string> &into);
};

struct Parsed {
  Command *command = nullptr; // null: none given
  bool help = false;          // for command, or the whole program
  bool version = false;
  std::vector<std::string> set; // the global flags given, by their long name
};

class Parser {
 public:
  Parser(std::string program, std::string about) : program_(std::move(program)), about_(std::move(about)) {}
  Command &globals() { return globals_; }
  Command &add(const std::string &name, const std::string &help);
  // Errors name the command and the flag or argument at fault.
  Result<Parsed> parse(int argc, char **argv);
  std::string help() const;
  std::string help(const Command &c) const;

 private:
  std::string program_, about_;
  Command globals_;
  std::deque<Command> commands_; // stable addresses
};

} // namespace berth::cli
