#include "cli/flags.hpp"

#include "common/strings.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <optional>

namespace berth::cli {

namespace {

// names: "-b,--bundle DIR" (the word after the space names the value in help).
Flag make(const std::string &names, const std::string &help, Flag::Kind kind, void *target) {
  Flag f;
  std::string_view n = names, value_name;
  if (auto sp = n.find(' '); sp != std::string_view::npos) {
    value_name = n.substr(sp + 1);
    n = n.substr(0, sp);
  }
  for (auto part : split(n, ',')) f.names.emplace_back(part);
  f.help = help;
  f.kind = kind;
  f.target = target;
  f.value_name = kind == Flag::Bool ? "" : !value_name.empty() ? std::string(value_name) : kind == Flag::Int ? "N" : "VALUE";
  return f;
}

std::string long_name(const Flag &f) { return f.names.back(); }

std::string join(const std::vector<std::string> &v, const char *sep) {
  std::string out;
  for (auto &s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The flag that arg ("--name" or "--name=value") names, or null.
Flag *find(Command &c, std::string_view arg) {
  std::string_view name = arg.substr(0, arg.find('='));
  for (auto &f : c.flags)
    for (auto &n : f.names)
      if (n == name) return &f;
  return nullptr;
}

bool is_flag(std::string_view a) { return a.size() > 1 && a[0] == '-'; }

// Sets f from arg (the flag as written) and, when it needs one, the next
// argument (i moves past it).
Result<> set_flag(const std::string &where, Flag &f, std::string_view arg, int argc, char **argv, int &i) {
  auto eq = arg.find('=');
  std::string name(arg.substr(0, eq));
  std::optional<std::string> value;
  if (eq != std::string_view::npos) value = std::string(arg.substr(eq + 1));
  switch (f.kind) {
  case Flag::Bool:
    if (!value || *value == "true") *static_cast<bool *>(f.target) = true;
    else if (*value == "false") *static_cast<bool *>(f.target) = false;
    else return fail_msg(where + name + ": expected true or false, got \"" + *value + "\"");
    return {};
  case Flag::OptionalValue:
    if (!value && i + 1 < argc)
      for (auto &c : f.choices)
        if (c == argv[i + 1]) value = argv[++i];
    *static_cast<std::string *>(f.target) = value.value_or("");
    return {};
  default:
    break;
  }
  if (!value) {
    if (i + 1 >= argc) return fail_msg(where + name + ": needs a value");
    value = argv[++i];
  }
  if (!f.choices.empty()) {
    bool ok = false;
    for (auto &c : f.choices) ok |= c == *value;
    if (!ok)
      return fail_msg(where + name + ": invalid value \"" + *value + "\" (one of: " + join(f.choices, ", ") + ")");
  }
  if (f.kind == Flag::Value) {
    *static_cast<std::string *>(f.target) = *value;
  } else if (f.kind == Flag::List) {
    static_cast<std::vector<std::string> *>(f.target)->push_back(*value);
  } else {
    char *end = nullptr;
    errno = 0;
    long n = std::strtol(value->c_str(), &end, 10);
    if (value->empty() || *end || errno || n < INT_MIN || n > INT_MAX)
      return fail_msg(where + name + ": not a number: \"" + *value + "\"");
    *static_cast<int *>(f.target) = int(n);
  }
  return {};
}

std::string flag_lines(const std::vector<Flag> &flags) {
  std::string out;
  for (auto &f : flags) {
    if (f.hidden) continue;
    std::string left = "  " + join(f.names, ", ");
    if (!f.value_name.empty()) left += " " + f.value_name;
    left.resize(std::max<size_t>(left.size() + 2, 30), ' ');
    out += left + f.help + "\n";
  }
  return out;
}

} // namespace

Command &Command::flag(const std::string &names, const std::string &help, bool &into) {
  flags.push_back(make(names, help, Flag::Bool, &into));
  return *this;
}

Command &Command::flag(const std::string &names, const std::string &help, std::string &into,
                       std::vector<std::string> choices) {
  flags.push_back(make(names, help, Flag::Value, &into));
  flags.back().choices = std::move(choices);
  return *this;
}

Command &Command::flag(const std::string &names, const std::string &help, int &into) {
  flags.push_back(make(names, help, Flag::Int, &into));
  return *this;
}

Command &Command::list(const std::string &names, const std::string &help, std::vector<std::string> &into) {
  flags.push_back(make(names, help + " (repeatable)", Flag::List, &into));
  return *this;
}

Command &Command::optional_value(const std::string &names, const std::string &help, std::string &into,
                                 std::vector<std::string> choices) {
  flags.push_back(make(names, help, Flag::OptionalValue, &into));
  flags.back().choices = std::move(choices);
  flags.back().value_name = "[=VALUE]";
  return *this;
}

Command &Command::hide_last() {
  flags.back().hidden = true;
  return *this;
}

Command &Command::arg(const std::string &n, std::string &into, bool required) {
  args.push_back({n, &into, required});
  return *this;
}

Command &Command::many_args(const std::string &n, std::vector<std::string> &into) {
  rest_args(n, into);
  rest_literal = false;
  return *this;
}

Command &Command::rest_args(const std::string &n, std::vector<std::string> &into) {
  rest = &into;
  rest_name = n;
  return *this;
}

Command &Parser::add(const std::string &name, const std::string &help) {
  commands_.push_back({});
  commands_.back().name = name;
  commands_.back().help = help;
  return commands_.back();
}

Result<Parsed> Parser::parse(int argc, char **argv) {
  Parsed p;
  int i = 1;
  for (; i < argc && is_flag(argv[i]); i++) {
    std::string_view a = argv[i];
    if (a == "--") {
      i++;
      break;
    }
    if (a == "-h" || a == "--help") {
      p.help = true;
      return p;
    }
    if (a == "-v" || a == "--version") {
      p.version = true;
      return p;
    }
    Flag *f = find(globals_, a);
    if (!f) return fail_msg("unknown flag " + std::string(a.substr(0, a.find('='))) + " (" + program_ + " --help lists them)");
    TRY(set_flag("", *f, a, argc, argv, i));
    p.set.push_back(long_name(*f));
  }
  if (i >= argc) return p;
  for (auto &c : commands_)
    if (c.name == argv[i]) p.command = &c;
  if (!p.command)
    return fail_msg("unknown command \"" + std::string(argv[i]) + "\" (" + program_ + " --help lists them)");
  Command &c = *p.command;
  const std::string where = c.name + ": ";
  size_t next_arg = 0;
  bool flags_done = false;
  auto literal = [&] { return c.rest && c.rest_literal && next_arg == c.args.size(); };
  for (i++; i < argc; i++) {
    std::string_view a = argv[i];
    if (!flags_done && !literal() && is_flag(a)) {
      if (a == "--") {
        flags_done = true;
        continue;
      }
      if (a == "-h" || a == "--help") {
        p.help = true;
        return p;
      }
      Flag *f = find(c, a);
      if (!f) return fail_msg(where + "unknown flag " + std::string(a.substr(0, a.find('='))) + " (" + program_ +
                              " " + c.name + " --help lists them)");
      TRY(set_flag(where, *f, a, argc, argv, i));
      continue;
    }
    if (next_arg < c.args.size()) {
      *c.args[next_arg++].into = a;
    } else if (c.rest) {
      // "exec ID -- CMD": the separator is not part of the command.
      if (!(c.rest->empty() && a == "--" && !flags_done)) c.rest->emplace_back(a);
      flags_done = flags_done || c.rest_literal;
    } else {
      return fail_msg(where + "unexpected argument \"" + std::string(a) + "\" (usage: " + program_ + " " + c.name +
                      " [flags]" + [&] {
                        std::string u;
                        for (auto &x : c.args) u += " " + x.name;
                        return u;
                      }() + ")");
    }
  }
  for (size_t k = next_arg; k < c.args.size(); k++)
    if (c.args[k].required) return fail_msg(where + "missing argument " + c.args[k].name);
  return p;
}

std::string Parser::help() const {
  std::string out = program_ + ": " + about_ + "\n\nUsage: " + program_ +
                    " [global flags] COMMAND [flags] [arguments]\n\nCommands:\n";
  for (auto &c : commands_) {
    std::string left = "  " + c.name;
    left.resize(std::max<size_t>(left.size() + 2, 14), ' ');
    out += left + c.help + "\n";
  }
  out += "\nGlobal flags:\n" + flag_lines(globals_.flags);
  out += "  -v, --version               print the version\n";
  out += "  -h, --help                  print this help (COMMAND --help: the command's)\n";
  return out;
}

std::string Parser::help(const Command &c) const {
  std::string usage = program_ + " " + c.name + (c.flags.empty() ? "" : " [flags]");
  for (auto &a : c.args) usage += a.required ? " " + a.name : " [" + a.name + "]";
  if (c.rest) usage += " [" + c.rest_name + "...]";
  std::string out = program_ + " " + c.name + ": " + c.help + "\n\nUsage: " + usage + "\n";
  if (!c.flags.empty()) out += "\nFlags:\n" + flag_lines(c.flags);
  return out;
}

} // namespace berth::cli
