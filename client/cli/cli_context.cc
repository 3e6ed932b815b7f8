#include "client/cli/cli_context.h"

#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/control_state.h"
#include "common/file_io.h"
#include "common/status_macros.h"

namespace tacit::cli {

void Fail(const absl::Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  throw CLI::RuntimeError(1);
}

absl::StatusOr<PrivacyPolicy> LoadOrCreatePolicy(const std::string& dir) {
  const std::string path = dir + "/" + kPrivacyPolicyFile;
  absl::StatusOr<PrivacyPolicy> policy = LoadPrivacyPolicy(path);
  if (!absl::IsNotFound(policy.status())) return policy;
  TACIT_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(path, DefaultPrivacyPolicyJson(), 0600));
  return PrivacyPolicy();
}

std::string InstalledProgramDir() {
  std::string path(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return ".";
  path.resize(static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatTime(int64_t ms) {
  time_t seconds = static_cast<time_t>(ms / 1000);
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " bytes");
  if (bytes < 1024 * 1024) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024.0));
}

absl::StatusOr<int64_t> ParseTimeArgument(const std::string& text) {
  int64_t ms = 0;
  if (absl::SimpleAtoi(text, &ms)) return ms;
  for (const char* format : {"%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    struct tm utc {};
    const char* end = strptime(text.c_str(), format, &utc);
    if (end != nullptr && *end == '\0') return static_cast<int64_t>(timegm(&utc)) * 1000;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", text, "' is not a time; write 2026-01-05, 2026-01-05T09:30 (UTC) or milliseconds"));
}

}  // namespace tacit::cli
