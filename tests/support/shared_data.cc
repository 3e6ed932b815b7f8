#include "tests/support/shared_data.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace tacit::testing {

bool DirectoryExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool RunningInCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// The environment (set by ctest) wins; a test binary run by hand falls back to
// the folders this build was configured with, so it finds the same data and
// tools instead of failing to start build/bin/... from the wrong directory.
std::string SharedDataDir() {
  const char* dir = std::getenv("TACIT_SHARED_DATA_DIR");
  const std::string chosen = dir != nullptr ? dir : TACIT_DEFAULT_SHARED_DATA_DIR;
  return DirectoryExists(chosen) ? chosen : "";
}

std::string BinaryDir() {
  const char* dir = std::getenv("TACIT_BINARY_DIR");
  return dir != nullptr ? dir : TACIT_DEFAULT_BINARY_DIR;
}

}  // namespace tacit::testing
