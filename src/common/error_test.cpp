#include "common/error.hpp"

#include <gtest/gtest.h>

using namespace berth;

static Result<int> inner() { return fail_sys(EPERM, "mount proc on /r/proc"); }
static Result<int> outer() {
  ASSIGN_OR_RETURN(int v, inner());
  return v;
}
static Result<> outer_ctx() {
  TRY_CTX(inner(), "create container c1");
  return {};
}

TEST(Error, ChainsContextOutermostFirst) {
  auto r = outer_ctx();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), EPERM);
  EXPECT_EQ(r.error().message(), "create container c1: mount proc on /r/proc: Operation not permitted");
}

TEST(Error, AssignOrReturnPropagates) {
  auto r = outer();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), EPERM);
}
