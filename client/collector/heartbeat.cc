#include "client/collector/heartbeat.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json_parse.h"

namespace tacit::collector {
namespace {

std::string Ago(int64_t then_ms, int64_t now_ms) {
  return absl::StrCat((now_ms - then_ms + 500) / 1000, " s ago");
}

}  // namespace

void SetCounts(const CollectionPipeline& pipeline, const ShellSocket* shell, Heartbeat* h) {
  const CollectionPipeline::Counts& c = pipeline.counts();
  h->paused = pipeline.paused();
  h->keyboard_grabbed = pipeline.grabbed();
  h->events_stored = c.stored;
  h->batches = c.batches;
  h->last_batch_ms = c.last_batch_ms;
  h->dropped_paused = c.dropped_paused;
  h->dropped_keyboard_grab = c.dropped_keyboard_grab;
  h->dropped_by_app = pipeline.filtered().dropped_by_app + c.dropped_before_denied_app;
  h->shell_listening = shell != nullptr;
  if (shell != nullptr) {
    h->shell_commands = shell->counts().received;
    h->shell_refused_peer = shell->counts().refused_peer;
    h->shell_refused_words = shell->counts().refused_words;
  }
}

absl::Status WriteHeartbeat(const std::string& dir, const Heartbeat& h) {
  nlohmann::json doc = {{"pid", h.pid},
                        {"display", h.display},
                        {"collecting", h.collecting},
                        {"note", h.note},
                        {"paused", h.paused},
                        {"keyboard_grabbed", h.keyboard_grabbed},
                        {"running", h.running},
                        {"events_stored", h.events_stored},
                        {"batches", h.batches},
                        {"last_batch_ms", h.last_batch_ms},
                        {"dropped_paused", h.dropped_paused},
                        {"dropped_keyboard_grab", h.dropped_keyboard_grab},
                        {"dropped_by_app", h.dropped_by_app},
                        {"shell_listening", h.shell_listening},
                        {"shell_commands", h.shell_commands},
                        {"shell_refused_peer", h.shell_refused_peer},
                        {"shell_refused_words", h.shell_refused_words},
                        {"updated_ms", h.updated_ms}};
  return WriteFileAtomically(dir + "/" + kHeartbeatFile, doc.dump(2) + "\n", 0600);
}

absl::StatusOr<Heartbeat> ReadHeartbeat(const std::string& dir) {
  const std::string path = dir + "/" + kHeartbeatFile;
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<nlohmann::json> doc = ParseJson(*text, path);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) {
    return absl::DataLossError(
        absl::StrCat("'", path, "' is not a collector heartbeat; restart `tacit-client collect`"));
  }
  auto flag = [&](const char* key) {
    return doc->contains(key) && (*doc)[key].is_boolean() && (*doc)[key].get<bool>();
  };
  Heartbeat h;
  h.pid = IntOr(*doc, "pid", 0);
  h.display = StringOr(*doc, "display", "");
  h.collecting = StringOr(*doc, "collecting", "");
  h.note = StringOr(*doc, "note", "");
  h.paused = flag("paused");
  h.keyboard_grabbed = flag("keyboard_grabbed");
  h.running = flag("running");
  h.events_stored = IntOr(*doc, "events_stored", 0);
  h.batches = IntOr(*doc, "batches", 0);
  h.last_batch_ms = IntOr(*doc, "last_batch_ms", 0);
  h.dropped_paused = IntOr(*doc, "dropped_paused", 0);
  h.dropped_keyboard_grab = IntOr(*doc, "dropped_keyboard_grab", 0);
  h.dropped_by_app = IntOr(*doc, "dropped_by_app", 0);
  h.shell_listening = flag("shell_listening");
  h.shell_commands = IntOr(*doc, "shell_commands", 0);
  h.shell_refused_peer = IntOr(*doc, "shell_refused_peer", 0);
  h.shell_refused_words = IntOr(*doc, "shell_refused_words", 0);
  h.updated_ms = IntOr(*doc, "updated_ms", 0);
  return h;
}

std::string DescribeHeartbeat(const absl::StatusOr<Heartbeat>& heartbeat, int64_t now_ms) {
  if (absl::IsNotFound(heartbeat.status())) {
    return "collector: has not run here (tacit-client collect)\n";
  }
  if (!heartbeat.ok()) {
    return absl::StrCat("collector: unknown (", heartbeat.status().message(), ")\n");
  }
  const Heartbeat& h = *heartbeat;
  std::string out;
  if (!h.running) {
    absl::StrAppend(&out, "collector: stopped (", Ago(h.updated_ms, now_ms), ")\n");
  } else if (now_ms - h.updated_ms > 3 * kHeartbeatIntervalMs) {
    absl::StrAppend(&out, "collector: not running (pid ", h.pid, " last seen ",
                    Ago(h.updated_ms, now_ms), ")\n");
  } else {
    absl::StrAppend(&out, "collector: running, pid ", h.pid, ", display ", h.display,
                    "\n  collecting now: ", h.collecting, "\n");
  }
  absl::StrAppend(&out, "  events stored: ", h.events_stored, " in ", h.batches, " batches",
                  h.last_batch_ms > 0 ? absl::StrCat(", last batch ", Ago(h.last_batch_ms, now_ms))
                                      : std::string(", no batch yet"),
                  "\n  not kept: ", h.dropped_paused, " while paused, ", h.dropped_keyboard_grab,
                  " while another program held the keyboard, ", h.dropped_by_app,
                  " in denied apps\n");
  if (h.shell_listening) {
    absl::StrAppend(&out, "  shell hook: ", h.shell_commands, " command names received; refused ",
                    h.shell_refused_peer, " from other users, ", h.shell_refused_words,
                    " that were not a command name\n");
  }
  if (!h.note.empty()) absl::StrAppend(&out, "  note: ", h.note, "\n");
  return out;
}

}  // namespace tacit::collector
