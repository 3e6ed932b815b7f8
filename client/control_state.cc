#include "client/control_state.h"

#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/collector/heartbeat.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"

namespace tacit {

absl::StatusOr<ControlState> LoadControlState(const std::string& dir) {
  const std::string path = dir + "/" + kControlStateFile;
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (absl::IsNotFound(text.status())) return ControlState();
  if (!text.ok()) return text.status();
  absl::StatusOr<nlohmann::json> parsed = ParseJson(*text, path);
  nlohmann::json doc =
      parsed.ok() ? *std::move(parsed) : nlohmann::json(nlohmann::json::value_t::discarded);
  auto flag = [&](const char* key, bool* out) {
    if (!doc.contains(key)) return true;
    if (!doc[key].is_boolean()) return false;
    *out = doc[key].get<bool>();
    return true;
  };
  ControlState state;
  bool valid = !doc.is_discarded() && doc.is_object() &&
               flag("collection_paused", &state.collection_paused) &&
               flag("training_paused", &state.training_paused);
  if (valid && doc.contains("changed_ms")) {
    valid = doc["changed_ms"].is_number_integer();
    if (valid) state.changed_ms = doc["changed_ms"].get<int64_t>();
  }
  if (!valid) {
    return absl::DataLossError(absl::StrCat(
        "'", path, "' is damaged; delete it and run `tacit-client pause` or `resume` again"));
  }
  return state;
}

absl::Status SaveControlState(const std::string& dir, const ControlState& state) {
  TACIT_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  nlohmann::json doc = {{"collection_paused", state.collection_paused},
                        {"training_paused", state.training_paused},
                        {"changed_ms", state.changed_ms}};
  return WriteFileAtomically(dir + "/" + kControlStateFile, doc.dump(2) + "\n", 0600);
}

namespace {

// A status file of `dir` as JSON; null when missing or unreadable.
nlohmann::json StatusFileOf(const std::string& dir, const char* name) {
  absl::StatusOr<std::string> text = ReadFileToString(dir + "/" + name);
  if (!text.ok()) return nullptr;
  absl::StatusOr<nlohmann::json> parsed = ParseJson(*text, name);
  return parsed.ok() && parsed->is_object() ? *std::move(parsed) : nlohmann::json();
}

// kill(pid, 0) tests that the process exists (EPERM: it does, not ours).
bool Alive(int64_t pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

std::string RoundInProgress(const std::string& dir) {
  const nlohmann::json status = StatusFileOf(dir, kDaemonStatusFile);
  if (!status.is_object() || StringOr(status, "state", "") != "in round") return "";
  if (!Alive(IntOr(status, "pid", 0))) return "";
  return StringOr(status, "detail", "a round");
}

std::string RunningClientPrograms(const std::string& dir) {
  std::string running;
  const nlohmann::json daemon = StatusFileOf(dir, kDaemonStatusFile);
  if (daemon.is_object() && StringOr(daemon, "state", "") != "stopped" &&
      StringOr(daemon, "state", "") != "done" && Alive(IntOr(daemon, "pid", 0))) {
    absl::StrAppend(&running, "tacit-client run (pid ", IntOr(daemon, "pid", 0), ")");
  }
  // "running" turns false when the collector stops and says so.
  const nlohmann::json collector = StatusFileOf(dir, collector::kHeartbeatFile);
  if (collector.is_object() && BoolOr(collector, "running", false) &&
      Alive(IntOr(collector, "pid", 0))) {
    absl::StrAppend(&running, running.empty() ? "" : ", ", "tacit-collector (pid ",
                    IntOr(collector, "pid", 0), ")");
  }
  return running;
}

std::string DefaultClientDirectory() {
  if (const char* dir = std::getenv("TACIT_CLIENT_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return absl::StrCat(xdg, "/tacit");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : ".", "/.local/share/tacit");
}

}  // namespace tacit
