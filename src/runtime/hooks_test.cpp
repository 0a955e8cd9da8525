// hooks_from_json on the hooks a state file records (fuzz/state_fuzz.cpp).
#include "runtime/hooks.hpp"

#include <gtest/gtest.h>

using namespace berth::runtime;

namespace {

TEST(HooksRecord, RoundTrip) {
  std::vector<berth::oci::Hook> hooks(1);
  hooks[0].path = "/bin/true";
  hooks[0].args = {"true", "x"};
  hooks[0].timeout = 5;
  auto back = hooks_from_json(hooks_to_json(hooks));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].path, "/bin/true");
  EXPECT_EQ(back[0].args, hooks[0].args);
  EXPECT_EQ(back[0].timeout, 5);
}

TEST(HooksRecord, MalformedEntriesAreSkipped) {
  // Each used to throw out of hooks_from_json (std::terminate) or convert a
  // float out of range (undefined behaviour).
  for (const char *bad : {R"([1])", R"([{"path":5}])", R"([{"path":"/x","args":"a"}])",
                          R"([{"path":"/x","timeout":"5"}])", R"([{"path":"/x","timeout":1e300}])",
                          R"([{"path":"/x","env":[1]}])", R"({"path":"/x"})", "[", ""}) {
    EXPECT_TRUE(hooks_from_json(bad).empty()) << bad;
  }
  auto mixed = hooks_from_json(R"([{"path":"/a"}, 7, {"path":"/b","timeout":2}])");
  ASSERT_EQ(mixed.size(), 2u);
  EXPECT_EQ(mixed[1].path, "/b");
}

} // namespace
