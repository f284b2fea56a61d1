#include "common/error.hpp"

#include <gtest/gtest.h>

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

TEST(Error, RootlessHintSurvivesPrependAndRethrow) {
  EXPECT_EQ(urun::hint_text(urun::Hint::none), "");
  EXPECT_EQ(urun::hint_text(urun::Hint::rootless_setup),
            " (run 'urun check' to diagnose the rootless set-up)");
  try {
    try {
      urun::with_hint(urun::Hint::rootless_setup, [] { urun::throw_errno("newuidmap", EPERM); });
    } catch (urun::Error& e) {
      e.prepend("create `foo`");
      throw;
    }
    FAIL() << "with_hint swallowed the error";
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.hint(), urun::Hint::rootless_setup);
    EXPECT_STREQ(e.what(), "create `foo`: newuidmap: Operation not permitted");
  }
  // No hint unless marked; Hint::none leaves it so; a hint already set is kept.
  urun::Error plain("x");
  EXPECT_EQ(plain.hint(), urun::Hint::none);
  try {
    urun::with_hint(urun::Hint::none, [] { throw urun::Error("y"); });
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.hint(), urun::Hint::none);
  }
  try {
    urun::with_hint(urun::Hint::none,
                    [] { throw urun::Error("z").set_hint(urun::Hint::rootless_setup); });
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.hint(), urun::Hint::rootless_setup);
  }
}

}  // namespace
