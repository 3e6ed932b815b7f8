#pragma once

// The collector where no X display is: Wayland without XWayland, a text
// console, an ssh session. Only the shell hook's command names can be seen
// there; they take the same path as in an X session (privacy filter, pause
// and policy files, batches, heartbeat). With no keyboard to check for
// grabs, every filtered event goes straight to the batch.

#include <csignal>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "client/collector/shell_socket.h"
#include "client/collector/x11_collector.h"
#include "client/store/event_store.h"

namespace tacit::collector {

// Runs until `*stop` becomes non-zero; `note` says why only shell commands
// are collected (client/collector/display_session.h).
absl::Status RunShellOnlyCollector(const CollectorOptions& options, const std::string& note,
                                   std::unique_ptr<EventStore> store, ShellSocket& shell,
                                   const volatile std::sig_atomic_t* stop);

}  // namespace tacit::collector
