#include <gtest/gtest.h>

#include "kernels/kernels.h"

namespace hearth {
namespace {

TEST(Dispatch, NamesRoundTrip) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod})
    EXPECT_EQ(isa_from_name(isa_name(isa)), isa);
  EXPECT_FALSE(isa_from_name("sse9"));
}

TEST(Dispatch, BestIsSupported) {
  EXPECT_TRUE(isa_supported(Isa::kScalar));
  EXPECT_TRUE(isa_supported(best_isa()));
  EXPECT_EQ(kernel_table(best_isa()).isa, best_isa());
}

}  // namespace
}  // namespace hearth
