#include "oci/state.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace berth::oci;

TEST(State, ContainerProcessStateForASeccompAgent) {
  State s;
  s.id = "c1";
  s.status = "creating";
  s.pid = 4422;
  s.bundle = "/containers/redis";
  s.annotations = {{"myKey", "myValue"}};
  auto j = nlohmann::json::parse(container_process_state_json(s, 4423, "MKNOD=/dev/null"));
  EXPECT_EQ(j["ociVersion"], kSpecVersion);
  EXPECT_EQ(j["fds"], nlohmann::json::array({"seccompFd"}));
  EXPECT_EQ(j["pid"], 4423);
  EXPECT_EQ(j["metadata"], "MKNOD=/dev/null");
  EXPECT_EQ(j["state"]["id"], "c1");
  EXPECT_EQ(j["state"]["status"], "creating");
  EXPECT_EQ(j["state"]["pid"], 4422);
  EXPECT_EQ(j["state"]["bundle"], "/containers/redis");
  EXPECT_EQ(j["state"]["annotations"]["myKey"], "myValue");
  // No metadata: no field (runtime-spec: OPTIONAL).
  auto k = nlohmann::json::parse(container_process_state_json(s, 1, ""));
  EXPECT_FALSE(k.contains("metadata"));
}
