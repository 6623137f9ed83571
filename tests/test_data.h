// Where tests find the shared model files: env HEARTH_TEST_MODELS, default ../shared/models
// relative to the source tree. Tests that need an absent file skip with a message naming it.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace hearth::test {

inline std::filesystem::path models_dir() {
  if (const char* env = std::getenv("HEARTH_TEST_MODELS"); env && *env) return env;
  return std::filesystem::path(HEARTH_SOURCE_DIR) / ".." / "shared" / "models";
}

// ../shared/reference sits beside models/.
inline std::filesystem::path reference_dir() { return models_dir() / ".." / "reference"; }

inline std::filesystem::path source_dir() { return HEARTH_SOURCE_DIR; }

}  // namespace hearth::test

// Skips the current test unless `path` exists.
#define HEARTH_REQUIRE_FILE(path)                                                     \
  do {                                                                                \
    if (!std::filesystem::exists(path))                                               \
      GTEST_SKIP() << "test data absent: " << (path).string()                         \
                   << " (set HEARTH_TEST_MODELS to the shared models folder)";        \
  } while (0)
