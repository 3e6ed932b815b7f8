#include "client/control_state.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
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

std::string DefaultClientDirectory() {
  if (const char* dir = std::getenv("TACIT_CLIENT_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return absl::StrCat(xdg, "/tacit");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : ".", "/.local/share/tacit");
}

}  // namespace tacit
