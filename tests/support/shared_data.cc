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

std::string SharedDataDir() {
  const char* dir = std::getenv("TACIT_SHARED_DATA_DIR");
  if (dir != nullptr && DirectoryExists(dir)) return dir;
  return "";
}

std::string BinaryDir() {
  const char* dir = std::getenv("TACIT_BINARY_DIR");
  return dir != nullptr ? dir : ".";
}

}  // namespace tacit::testing
