#pragma once

#include <string>

namespace tacit::testing {

// Folder of the real per-person data sets (../shared/data beside the checkout,
// or $TACIT_SHARED_DATA_DIR). Returns "" when it is absent.
std::string SharedDataDir();

// Folder of the build tree ($TACIT_BINARY_DIR, set by ctest).
std::string BinaryDir();

}  // namespace tacit::testing

// Skips the current test with a visible message when the shared data set folder
// `sub` (e.g. "sea-commands") is missing, but fails when running in CI
// (CI=true), where the data is required. Sets `var` to the full path.
#define TACIT_REQUIRE_SHARED_DATA(var, sub)                           \
  std::string var = ::tacit::testing::SharedDataDir();                \
  if (!var.empty()) var += "/" sub;                                   \
  if (var.empty() || !::tacit::testing::DirectoryExists(var)) {       \
    if (::tacit::testing::RunningInCi()) {                            \
      FAIL() << "shared data folder '" sub                            \
                "' is required in CI but missing; "                   \
                "expected it at ../shared/data beside the checkout";  \
    }                                                                 \
    GTEST_SKIP() << "SKIPPED: shared data folder '" sub               \
                    "' not found (set "                               \
                    "TACIT_SHARED_DATA_DIR or place ../shared/data)"; \
  }

namespace tacit::testing {
bool DirectoryExists(const std::string& path);
bool RunningInCi();
}  // namespace tacit::testing
