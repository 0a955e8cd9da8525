#include "linux/signals.hpp"

#include <gtest/gtest.h>

#include <csignal>

using namespace berth::linuxf;

TEST(Signal, ParsesNumbersAndNames) {
  EXPECT_EQ(parse_signal("9").value(), SIGKILL);
  EXPECT_EQ(parse_signal("15").value(), SIGTERM);
  EXPECT_EQ(parse_signal("64").value(), SIGRTMAX);
  EXPECT_EQ(parse_signal("KILL").value(), SIGKILL);
  EXPECT_EQ(parse_signal("SIGKILL").value(), SIGKILL);
  EXPECT_EQ(parse_signal("kill").value(), SIGKILL);
  EXPECT_EQ(parse_signal("sigterm").value(), SIGTERM);
  EXPECT_EQ(parse_signal("SigHup").value(), SIGHUP);
  EXPECT_EQ(parse_signal("WINCH").value(), SIGWINCH);
  EXPECT_EQ(parse_signal("SIGCLD").value(), SIGCHLD);
  EXPECT_EQ(parse_signal("IOT").value(), SIGABRT);
  EXPECT_EQ(parse_signal("SIGPWR").value(), SIGPWR);
}

TEST(Signal, ParsesRealtime) {
  EXPECT_EQ(parse_signal("SIGRTMIN").value(), SIGRTMIN);
  EXPECT_EQ(parse_signal("RTMIN").value(), SIGRTMIN);
  EXPECT_EQ(parse_signal("SIGRTMIN+3").value(), SIGRTMIN + 3);
  EXPECT_EQ(parse_signal("sigrtmin+3").value(), SIGRTMIN + 3);
  EXPECT_EQ(parse_signal("SIGRTMAX").value(), SIGRTMAX);
  EXPECT_EQ(parse_signal("RTMAX-1").value(), SIGRTMAX - 1);
  EXPECT_EQ(parse_signal("RTMIN+0").value(), SIGRTMIN);
  EXPECT_EQ(parse_signal("SIGRTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN)).value(), SIGRTMAX);
  EXPECT_EQ(parse_signal("RTMAX-" + std::to_string(SIGRTMAX - SIGRTMIN)).value(), SIGRTMIN);
}

TEST(Signal, RejectsWithTheInputQuoted) {
  const std::string over = std::to_string(SIGRTMAX + 1);
  const std::string rt_over = "SIGRTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN + 1);
  const std::string rt_under = "RTMAX-" + std::to_string(SIGRTMAX - SIGRTMIN + 1);
  for (std::string bad : {std::string("FOO"), std::string("SIGFOO"), std::string(""), std::string("0"),
                          over, std::string("-9"), std::string("+9"), std::string("9x"),
                          std::string("SIG"), std::string("SIGRTMIN-1"), std::string("SIGRTMAX+1"),
                          rt_over, rt_under, std::string("RTMIN+"), std::string("RTMIN+x"),
                          std::string(" KILL"), std::string("99999999999999999999")}) {
    auto r = parse_signal(bad);
    ASSERT_FALSE(r) << bad << " parsed as " << *r;
    EXPECT_EQ(r.error().message(), "invalid signal \"" + bad + "\"");
  }
}

TEST(Signal, Names) {
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
  EXPECT_EQ(signal_name(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(signal_name(SIGRTMIN), "SIGRTMIN");
  EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
  EXPECT_EQ(signal_name(SIGRTMAX), "SIGRTMAX");
  // Every signal's name reads back as that signal.
  for (int s = 1; s <= SIGRTMAX; ++s) {
    auto r = parse_signal(signal_name(s));
    ASSERT_TRUE(r) << s << " " << signal_name(s);
    EXPECT_EQ(*r, s) << signal_name(s);
  }
}
