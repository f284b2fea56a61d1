#pragma once
// Runs a callable when the scope ends, unless dismissed. Used for undo steps
// on error paths (remove a state dir, unmount) that succeed paths dismiss.
#include <utility>

namespace urun {

template <typename F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() {
    if (active_) f_();
  }
  void dismiss() noexcept { active_ = false; }

 private:
  F f_;
  bool active_ = true;
};

}  // namespace urun
