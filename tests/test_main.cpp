#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  // No packed-weight cache in the user's home from test loads (and none read from it, so a
  // test sees a fresh repack); the cache's own tests point it at a temporary folder.
  setenv("HEARTH_PACK_CACHE", "0", 1);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
