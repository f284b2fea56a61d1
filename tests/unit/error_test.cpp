#include <gtest/gtest.h>

#include "common/error.hpp"

namespace {

TEST(Error, PrependAddsContextAndKeepsErrno) {
  urun::Error e("mount `proc` on `/proc`: Operation not permitted", EPERM);
  e.prepend("create `foo`");
  EXPECT_STREQ(e.what(), "create `foo`: mount `proc` on `/proc`: Operation not permitted");
  EXPECT_EQ(e.code(), EPERM);
}

TEST(Error, ThrowErrnoFormatsStrerror) {
  try {
    urun::throw_errno("open `x`", ENOENT);
    FAIL() << "throw_errno returned";
  } catch (const urun::Error& e) {
    EXPECT_STREQ(e.what(), "open `x`: No such file or directory");
    EXPECT_EQ(e.code(), ENOENT);
  }
}

}  // namespace
