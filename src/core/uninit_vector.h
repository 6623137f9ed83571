// A std::vector whose resize leaves new trivial elements uninitialised. Zero-filling a large
// buffer writes every one of its pages, so a buffer that some architectures never use (phi3's
// fused q|k|v, the up half of a fused gate|up) would still count in the resident set; left
// uninitialised, only the pages a forward pass writes ever become resident.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace hearth {

template <class T>
struct UninitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>&) noexcept {}

  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0 && std::is_trivially_default_constructible_v<U>)
      ::new (static_cast<void*>(p)) U;  // default-initialised: no write
    else
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <class T>
using UninitVector = std::vector<T, UninitAllocator<T>>;

}  // namespace hearth
