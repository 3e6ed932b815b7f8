#include "client/runtime/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_context.h"
#include "common/json_parse.h"

namespace tacit::runtime {

absl::Status AppendAudit(const std::string& dir, const AuditEntry& entry) {
  nlohmann::json line;
  line["time"] = cli::FormatTime(cli::NowMs());
  line["round"] = entry.round;
  line["round_id"] = entry.round_id;
  line["model_version"] = entry.model_version;
  line["sent"] = nlohmann::json::array();
  for (const SentMessage& m : entry.sent) {
    line["sent"].push_back({{"message", m.message}, {"bytes", m.bytes}});
  }
  line["bytes_up"] = entry.bytes_up;
  line["bytes_down"] = entry.bytes_down;
  line["masked"] = "yes";
  line["outcome"] = entry.outcome;
  line["included"] = entry.included;
  const std::string text = line.dump() + "\n";
  const std::string path = absl::StrCat(dir, "/", kAuditLogFile);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  ssize_t written = ::write(fd, text.data(), text.size());
  int synced = ::fsync(fd);
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()) || synced != 0) {
    return absl::InternalError(absl::StrCat("cannot append to ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<nlohmann::json>> ReadAudit(const std::string& dir, size_t limit) {
  std::ifstream in(absl::StrCat(dir, "/", kAuditLogFile));
  std::deque<nlohmann::json> lines;
  std::string line;
  while (std::getline(in, line)) {
    absl::StatusOr<nlohmann::json> parsed = ParseJson(line, "audit line");
    if (!parsed.ok()) continue;  // a line torn by a crash
    lines.push_back(*std::move(parsed));
    if (lines.size() > limit) lines.pop_front();
  }
  return std::vector<nlohmann::json>(lines.begin(), lines.end());
}

}  // namespace tacit::runtime
