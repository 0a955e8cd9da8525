#include "cli/format.hpp"

#include <gtest/gtest.h>

using namespace berth;
using json = nlohmann::json;

TEST(Format, RendersFieldsNestedFieldsAndJson) {
  json row = {{"ID", "abc"}, {"Config", {{"Cmd", {"sh", "-c"}}, {"Env", json::array()}}}, {"N", 3}, {"X", nullptr}};
  EXPECT_EQ(*cli::render("{{.ID}}\\t{{ .N }}", row), "abc\t3");
  EXPECT_EQ(*cli::render("{{.Config.Cmd}}", row), "[sh -c]");
  EXPECT_EQ(*cli::render("{{json .Config.Cmd}}", row), "[\"sh\",\"-c\"]");
  EXPECT_EQ(*cli::render("{{.X}}", row), "<nil>");
  EXPECT_EQ(*cli::render("{{json .}}", json{{"a", 1}}), "{\"a\":1}");
  EXPECT_EQ(*cli::render("{{.Config}}", json{{"Config", {{"k", "v"}}}}), "map[k:v]");
}

TEST(Format, ErrorsNameTheField) {
  auto r = cli::render("{{.Nope}}", json{{"ID", 1}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("no field \"Nope\""), std::string::npos);
  EXPECT_NE(r.error().message().find("ID"), std::string::npos);
  EXPECT_FALSE(cli::render("{{.ID", json{{"ID", 1}}));
  EXPECT_FALSE(cli::render("{{ID}}", json{{"ID", 1}}));
}

TEST(Format, HumanSizesAsDocker) {
  EXPECT_EQ(cli::human_size(0), "0B");
  EXPECT_EQ(cli::human_size(999), "999B");
  EXPECT_EQ(cli::human_size(4261375), "4.26MB");
  EXPECT_EQ(cli::human_size(1000000), "1MB");
  EXPECT_EQ(cli::human_size(77800000), "77.8MB");
  EXPECT_EQ(cli::human_size(1234567890123ull), "1.23TB");
}

TEST(Format, HumanAges) {
  std::time_t now = 1700000000;
  EXPECT_EQ(cli::human_since(now, now), "Less than a second ago");
  EXPECT_EQ(cli::human_since(now - 30, now), "30 seconds ago");
  EXPECT_EQ(cli::human_since(now - 90, now), "About a minute ago");
  EXPECT_EQ(cli::human_since(now - 5400, now), "About an hour ago");
  EXPECT_EQ(cli::human_since(now - 3 * 86400, now), "3 days ago");
  EXPECT_EQ(cli::human_since(now - 21 * 86400, now), "3 weeks ago");
  EXPECT_EQ(cli::human_since(now - 400 * 86400, now), "13 months ago");
  EXPECT_EQ(cli::human_since(now - 1000 * 86400, now), "2 years ago");
  EXPECT_EQ(cli::human_since(0, now), "N/A");
}

TEST(Format, Rfc3339) {
  EXPECT_EQ(cli::parse_rfc3339("2023-11-14T22:13:20Z"), 1700000000);
  EXPECT_EQ(cli::parse_rfc3339("2023-11-14T22:13:20.123456789Z"), 1700000000);
  EXPECT_EQ(cli::parse_rfc3339("2023-11-15T00:13:20+02:00"), 1700000000);
  EXPECT_EQ(cli::parse_rfc3339("yesterday"), 0);
}
