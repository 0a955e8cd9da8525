#include "registry/errors.hpp"

#include <gtest/gtest.h>

namespace berth::registry {
namespace {

TEST(ErrorBody, CodesMessagesAndDetails) {
  EXPECT_EQ(error_body_text(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"1"}}]})"),
            R"(MANIFEST_UNKNOWN: manifest unknown ({"Tag":"1"}))");
  EXPECT_EQ(error_body_text(R"({"errors":[{"code":"DENIED"},{"message":"m","detail":"d"}]})"), "DENIED; m (d)");
}

TEST(ErrorBody, NotOneIsEmpty) {
  EXPECT_EQ(error_body_text(""), "");
  EXPECT_EQ(error_body_text("<html>502 Bad Gateway</html>"), "");
  EXPECT_EQ(error_body_text(R"({"errors":"no"})"), "");
  EXPECT_EQ(error_body_text(R"([1,2])"), "");
}

TEST(ErrorBody, LongDetailIsCut) {
  std::string body = R"({"errors":[{"code":"X","detail":")" + std::string(1000, 'a') + R"("}]})";
  EXPECT_LT(error_body_text(body).size(), 400u);
}

TEST(StatusError, WordsPerStatus) {
  Response r;
  r.status = 401;
  EXPECT_NE(status_error(r, "pull x", false).message().find("authentication required"), std::string::npos);
  EXPECT_NE(status_error(r, "pull x", true).message().find("refused the credentials"), std::string::npos);
  r.status = 403;
  EXPECT_EQ(status_error(r, "pull x", false).message(), "pull x: access denied");
  r.status = 404;
  r.body = R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})";
  EXPECT_EQ(status_error(r, "pull x", false).message(),
            "pull x: not found: NAME_UNKNOWN: repository name not known to registry");
  r.status = 429;
  r.body.clear();
  EXPECT_NE(status_error(r, "pull x", false).message().find("rate limit"), std::string::npos);
  r.status = 502;
  EXPECT_EQ(status_error(r, "pull x", false).message(), "pull x: HTTP status 502");
}

} // namespace
} // namespace berth::registry
