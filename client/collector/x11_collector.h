#pragma once

// The live X11 collector: XInput2 raw key, button and motion events on the
// root window, app switches from _NET_ACTIVE_WINDOW's WM_CLASS, command names
// from the shell hook (client/collector/shell_socket.h), through the
// privacy filter (client/collector/collection_pipeline.h) into the encrypted
// store in batches. Pause and the privacy policy are re-read within
// `control_check_ms` of a change; a heartbeat tells `tacit-client status`
// what is being collected.

#include <csignal>
#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace tacit::collector {

struct CollectorOptions {
  std::string dir;                 // the client's folder (store, key, policy, control)
  std::string display;             // X display name; "" = $DISPLAY
  int64_t batch_ms = 5000;         // write a batch at least this often...
  size_t batch_events = 256;       // ...or as soon as it holds this many events
  int64_t grab_check_ms = 500;     // how often the keyboard-grab check runs
  int64_t control_check_ms = 250;  // how often pause and policy files are checked
  int64_t mouse_move_ms = 100;     // at most one mouse move (or drag) per interval
  int64_t min_wake_ms = 25;        // read the X socket at most this often
};

// Runs until `*stop` becomes non-zero (a signal handler sets it), then writes
// what it holds and a last heartbeat. Listens for the shell hook in every
// session; without an X display (Wayland without XWayland, a console, ssh)
// it collects shell command names only and says so. FailedPrecondition, with
// what to do, when a named X display does not answer, the server lacks
// XInput2, or another collector runs on the same folder.
absl::Status RunCollector(const CollectorOptions& options, const volatile std::sig_atomic_t* stop);

}  // namespace tacit::collector
