// The command-line parser against the forms runc's callers write.
#include "cli/flags.hpp"

#include <gtest/gtest.h>

#include <initializer_list>

using namespace berth;
using namespace berth::cli;

namespace {

struct Args {
  std::vector<std::string> v;
  std::vector<char *> p;
  Args(std::initializer_list<const char *> a) {
    v.emplace_back("prog");
    for (auto s : a) v.emplace_back(s);
  }
  int argc() { return int(v.size()); }
  char **argv() { // pointers into this copy's strings
    p.clear();
    for (auto &s : v) p.push_back(s.data());
    return p.data();
  }
};

struct Fixture {
  Parser app{"prog", "test"};
  std::string root, id, bundle, sig = "TERM", rootless = "unset", fmt = "table";
  bool force = false, detach = false;
  int fds = 0;
  std::vector<std::string> env, rest;
  Command *del, *exec, *kill, *list;
  Fixture() {
    app.globals().flag("--root", "r", root).optional_value("--rootless", "rl", rootless, {"true", "false", "auto"});
    del = &app.add("delete", "d").arg("ID", id).flag("-f,--force", "f", force);
    exec = &app.add("exec", "e")
                .arg("ID", id)
                .rest_args("COMMAND", rest)
                .flag("-d,--detach", "d", detach)
                .list("-e,--env", "e", env)
                .flag("--preserve-fds", "n", fds);
    kill = &app.add("kill", "k").arg("ID", id).arg("SIGNAL", sig, false);
    list = &app.add("list", "l").flag("-f,--format", "f", fmt, {"table", "json"});
  }
  Result<Parsed> parse(Args a) {
    char **argv = a.argv();
    return app.parse(a.argc(), argv);
  }
};

TEST(Flags, GlobalsThenCommandFlagsAnywhere) {
  Fixture f;
  auto p = f.parse({"--root", "/r", "delete", "c1", "--force"});
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->command, f.del);
  EXPECT_EQ(f.root, "/r");
  EXPECT_EQ(f.id, "c1");
  EXPECT_TRUE(f.force);
  ASSERT_EQ(p->set.size(), 1u);
  EXPECT_EQ(p->set[0], "--root");
}

TEST(Flags, EqualsFormsAndBooleans) {
  Fixture f;
  ASSERT_TRUE(f.parse({"--root=/x", "delete", "-f=false", "c"}));
  EXPECT_EQ(f.root, "/x");
  EXPECT_FALSE(f.force);
  auto bad = f.parse({"delete", "--force=maybe", "c"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("--force"), std::string::npos);
}

TEST(Flags, ExecCommandIsLiteral) {
  Fixture f;
  ASSERT_TRUE(f.parse({"exec", "-e", "A=1", "--env=B=2", "-d", "c", "sh", "-c", "echo -d --env"}));
  EXPECT_EQ(f.id, "c");
  EXPECT_TRUE(f.detach);
  EXPECT_EQ(f.env, (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(f.rest, (std::vector<std::string>{"sh", "-c", "echo -d --env"}));
}

TEST(Flags, ExecSeparatorAfterIdIsDropped) {
  Fixture f;
  ASSERT_TRUE(f.parse({"exec", "c", "--", "ls", "--", "-l"}));
  EXPECT_EQ(f.rest, (std::vector<std::string>{"ls", "--", "-l"}));
}

TEST(Flags, OptionalValueTakesOnlyItsChoices) {
  Fixture f;
  ASSERT_TRUE(f.parse({"--rootless", "delete", "c"}));
  EXPECT_EQ(f.rootless, "");
  Fixture g;
  ASSERT_TRUE(g.parse({"--rootless", "false", "delete", "c"}));
  EXPECT_EQ(g.rootless, "false");
  Fixture h;
  ASSERT_TRUE(h.parse({"--rootless=true", "delete", "c"}));
  EXPECT_EQ(h.rootless, "true");
}

TEST(Flags, OptionalArgument) {
  Fixture f;
  ASSERT_TRUE(f.parse({"kill", "c"}));
  EXPECT_EQ(f.sig, "TERM");
  ASSERT_TRUE(f.parse({"kill", "c", "KILL"}));
  EXPECT_EQ(f.sig, "KILL");
}

TEST(Flags, ErrorsNameWhatIsWrong) {
  struct Case {
    Args a;
    const char *want;
  };
  for (auto &c : std::vector<Case>{{{"delete"}, "missing argument ID"},
                                   {{"delete", "a", "b"}, "unexpected argument \"b\""},
                                   {{"delete", "--nope", "c"}, "delete: unknown flag --nope"},
                                   {{"--nope", "list"}, "unknown flag --nope"},
                                   {{"frobnicate"}, "unknown command \"frobnicate\""},
                                   {{"list", "--format", "xml"}, "invalid value \"xml\""},
                                   {{"list", "--format"}, "--format: needs a value"},
                                   {{"exec", "--preserve-fds", "x", "c", "true"}, "not a number"}}) {
    Fixture f;
    auto p = f.parse(c.a);
    ASSERT_FALSE(p) << c.want;
    EXPECT_NE(p.error().message().find(c.want), std::string::npos) << p.error().message();
  }
}

TEST(Flags, HelpAndVersion) {
  Fixture f;
  auto p = f.parse({"delete", "--help"});
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->help);
  EXPECT_EQ(p->command, f.del);
  EXPECT_NE(f.app.help(*f.del).find("Usage: prog delete [flags] ID"), std::string::npos);
  EXPECT_NE(f.app.help().find("exec"), std::string::npos);
  Fixture g;
  auto v = g.parse({"--version"});
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->version);
  Fixture h;
  auto none = h.parse({});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->command, nullptr);
}

} // namespace

TEST(Flags, ManyArgsTakeFlagsAnywhere) {
  Parser app{"prog", "test"};
  bool force = false;
  std::vector<std::string> images;
  app.add("rmi", "r").flag("-f,--force", "f", force).many_args("IMAGE", images);
  Args a{"rmi", "one", "-f", "two", "--", "-three"};
  char **argv = a.argv();
  auto p = app.parse(a.argc(), argv);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_TRUE(force);
  EXPECT_EQ(images, (std::vector<std::string>{"one", "two", "-three"}));
}
