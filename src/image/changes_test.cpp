#include "image/changes.hpp"

#include <gtest/gtest.h>

using namespace berth;
using json = nlohmann::json;

namespace {

json apply(std::initializer_list<const char *> changes) {
  json c = json::object();
  for (auto ch : changes) {
    auto r = image::apply_change(c, ch);
    EXPECT_TRUE(r) << ch << ": " << r.error().message();
  }
  return c;
}

std::string error_of(const char *change) {
  json c = json::object();
  auto r = image::apply_change(c, change);
  return r ? "" : r.error().message();
}

} // namespace

TEST(ImportChanges, CommandsInBothForms) {
  auto c = apply({"CMD [\"/bin/sh\", \"-c\", \"x\"]", "ENTRYPOINT /bin/app --flag"});
  EXPECT_EQ(c["Cmd"], json({"/bin/sh", "-c", "x"}));
  EXPECT_EQ(c["Entrypoint"], json({"/bin/sh", "-c", "/bin/app --flag"}));
  EXPECT_EQ(apply({"cmd [\"a\"]"})["Cmd"], json({"a"})); // instructions are case-insensitive
}

TEST(ImportChanges, EnvForms) {
  auto c = apply({"ENV A=1 B=\"two words\" C=a\\ b", "ENV D legacy form value", "ENV A=replaced"});
  EXPECT_EQ(c["Env"], json({"A=replaced", "B=two words", "C=a b", "D=legacy form value"}));
}

TEST(ImportChanges, PortsLabelsVolumesAndScalars) {
  auto c = apply({"EXPOSE 80 443/udp", "LABEL a=b \"c\"=d", "VOLUME [\"/v1\", \"/v2\"]", "VOLUME /v3",
                  "USER 1000:1000", "WORKDIR /srv", "STOPSIGNAL SIGQUIT"});
  EXPECT_EQ(c["ExposedPorts"], json({{"80/tcp", json::object()}, {"443/udp", json::object()}}));
  EXPECT_EQ(c["Labels"]["a"], "b");
  EXPECT_EQ(c["Volumes"].size(), 3u);
  EXPECT_EQ(c["User"], "1000:1000");
  EXPECT_EQ(c["WorkingDir"], "/srv");
  EXPECT_EQ(c["StopSignal"], "SIGQUIT");
}

TEST(ImportChanges, ErrorsNameTheInstruction) {
  EXPECT_NE(error_of("FROM scratch").find("FROM is not allowed"), std::string::npos);
  EXPECT_NE(error_of("RUN make").find("RUN is not allowed"), std::string::npos);
  EXPECT_NE(error_of("CMD [\"a\", 1]").find("JSON array of strings"), std::string::npos);
  EXPECT_NE(error_of("CMD").find("no command"), std::string::npos);
  EXPECT_NE(error_of("ENV A=\"open").find("unterminated"), std::string::npos);
  EXPECT_NE(error_of("EXPOSE http").find("invalid port"), std::string::npos);
  EXPECT_NE(error_of("USER").find("no value"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
}
