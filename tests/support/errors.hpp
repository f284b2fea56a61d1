#pragma once
// Checking the error a call throws, in one expression:
//   EXPECT_EQ(urun_test::what_of([&] { parse(x); }), "field: must be a string");
#include <exception>
#include <string>

namespace urun_test {

// What the exception fn() throws says (its what()); "" when it throws none.
template <typename Fn>
std::string what_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace urun_test
