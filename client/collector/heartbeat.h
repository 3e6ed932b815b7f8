#pragma once

// The collector's heartbeat: <client dir>/collector.json, rewritten after
// every batch and whenever what it collects changes, so `tacit-client status`
// can say what is being collected right now. It holds counts and states
// only, never an event or an app name.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/collector/collection_pipeline.h"
#include "client/collector/shell_socket.h"

namespace tacit::collector {

inline constexpr const char* kHeartbeatFile = "collector.json";
// The collector writes at least this often while it runs; an older heartbeat
// means it stopped without saying so (killed, or the session ended).
inline constexpr int64_t kHeartbeatIntervalMs = 5000;

struct Heartbeat {
  int64_t pid = 0;
  std::string display;     // ":0", or "" before a display was opened
  std::string collecting;  // "keys, mouse, app switches" or "nothing: <why>"
  std::string note;        // e.g. what Wayland hides; "" when nothing to say
  bool paused = false;
  bool keyboard_grabbed = false;  // another program holds the keyboard
  bool running = true;            // false: the collector stopped and said so
  int64_t events_stored = 0;
  int64_t batches = 0;
  int64_t last_batch_ms = 0;  // 0 = no batch yet
  int64_t dropped_paused = 0, dropped_keyboard_grab = 0, dropped_by_app = 0;
  // The shell hook: command names received, and datagrams refused because
  // another user sent them or they held no plain command name.
  bool shell_listening = false;
  int64_t shell_commands = 0, shell_refused_peer = 0, shell_refused_words = 0;
  int64_t updated_ms = 0;
};

// The counts of `pipeline` and `shell` (null: not listening) into `h`.
void SetCounts(const CollectionPipeline& pipeline, const ShellSocket* shell, Heartbeat* h);

absl::Status WriteHeartbeat(const std::string& dir, const Heartbeat& heartbeat);
// NotFound when the collector has never run in `dir`.
absl::StatusOr<Heartbeat> ReadHeartbeat(const std::string& dir);

// Lines for `tacit-client status`: what the collector does now, judged at
// `now_ms` (a heartbeat older than three intervals: not running).
std::string DescribeHeartbeat(const absl::StatusOr<Heartbeat>& heartbeat, int64_t now_ms);

}  // namespace tacit::collector
