// record_from_json on state files as a crash or a hand edit may leave them:
// wrong types and out-of-range numbers are errors, never an exception
// (inputs found by fuzz/state_fuzz.cpp; fuzz/regressions/state/).
#include "runtime/state_store.hpp"

#include <gtest/gtest.h>

using namespace berth::runtime;

namespace {

TEST(StateRecord, RoundTrip) {
  Record r;
  r.oci.id = "c1";
  r.oci.status = "created";
  r.oci.pid = 42;
  r.start_time = 7;
  r.cgroup = R"({"layout":"v2","h":[]})";
  r.hooks = R"({"poststop":[{"path":"/bin/true"}]})";
  auto back = record_from_json(record_to_json(r), "state");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->oci.pid, 42);
  EXPECT_EQ(back->start_time, 7u);
  EXPECT_EQ(back->cgroup, r.cgroup);
  EXPECT_EQ(back->hooks, r.hooks);
}

TEST(StateRecord, WrongTypesAreErrors) {
  for (const char *bad : {R"({"id":"c","startTime":"x"})", R"({"id":"c","creator":[]})",
                          R"({"id":"c","cgroup":5})", R"({"id":"c","hooks":{}})",
                          R"({"id":"c","userns":"yes"})", R"({"id":"c","pid":"1"})",
                          R"({"id":"c","annotations":{"k":1}})"}) {
    auto r = record_from_json(bad, "state of container c");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("state of container c"), std::string::npos)
        << r.error().message();
  }
}

TEST(StateRecord, OutOfRangeNumbersAreErrors) {
  // A float converted to int out of range is undefined behaviour (UBSan).
  for (const char *bad : {R"({"pid":1e300})", R"({"creator":-1e300})", R"({"pid":4294967296})",
                          R"({"pid":1.5})", R"({"startTime":-1})"}) {
    EXPECT_FALSE(record_from_json(bad, "state")) << bad;
  }
}

} // namespace

namespace {

TEST(StateRecord, SummaryStopsBeforeTheLargeFields) {
  Record r;
  r.oci.id = "c1";
  r.oci.status = "created";
  r.oci.pid = 42;
  r.oci.annotations = {{"cgroup", "an annotation named like the field"}};
  r.start_time = 7;
  r.creator = 9;
  r.cgroup = R"({"layout":"v2","h":[]})";
  r.hooks = R"({"poststop":[{"path":"/bin/true"}]})";
  std::string text = record_to_json(r);
  EXPECT_LT(text.find("\"id\""), text.find("\"hooks\""));
  EXPECT_LT(text.find("\"startTime\""), text.rfind("\"cgroup\":"));
  auto s = record_summary_from_json(text, "state");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->oci.id, "c1");
  EXPECT_EQ(s->oci.pid, 42);
  EXPECT_EQ(s->oci.annotations, r.oci.annotations);
  EXPECT_EQ(s->start_time, 7u);
  EXPECT_EQ(s->creator, 9);
  EXPECT_TRUE(s->cgroup.empty()); // not read
}

TEST(StateRecord, SummaryOfAnOlderFileReadsItWhole) {
  // Sorted keys, as earlier versions wrote them: "cgroup" before "id".
  const char *old = R"({"bundle":"/b","cgroup":"{}","id":"c2","ociVersion":"1.3.0","pid":5,"startTime":3,"status":"running"})";
  auto s = record_summary_from_json(old, "state");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->oci.id, "c2");
  EXPECT_EQ(s->oci.pid, 5);
  EXPECT_EQ(s->start_time, 3u);
}

TEST(StateRecord, SummaryOfADamagedFileIsAnError) {
  for (const char *bad : {R"({"id":"c","pid":"x","cgroup":"{}"})", R"({"id":)", "[]", ""}) {
    auto s = record_summary_from_json(bad, "state of container c");
    EXPECT_FALSE(s) << bad;
  }
}

} // namespace
