#include "client/collector/shell_only_collector.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "client/cli/cli_context.h"
#include "client/collector/collection_pipeline.h"
#include "client/collector/control_watcher.h"
#include "client/collector/heartbeat.h"
#include "client/collector/shell_event.h"
#include "common/status_macros.h"

namespace tacit::collector {
namespace {

constexpr int64_t kRetentionCheckMs = 3600 * 1000;

void WriteBeat(const CollectorOptions& options, const std::string& note,
               const CollectionPipeline& pipeline, const ControlWatcher& control,
               const ShellSocket& shell, int64_t now, bool running) {
  Heartbeat h;
  h.pid = ::getpid();
  h.display = "none";
  const std::string stopped = control.Stopped();
  h.collecting = !running          ? "nothing: stopped"
                 : stopped.empty() ? "shell command names only (no X display)"
                                   : stopped;
  h.note = note;
  h.running = running;
  SetCounts(pipeline, &shell, &h);
  h.updated_ms = now;
  absl::Status written = WriteHeartbeat(options.dir, h);
  if (!written.ok()) std::cerr << "tacit-collector: " << written.message() << "\n";
}

}  // namespace

absl::Status RunShellOnlyCollector(const CollectorOptions& options, const std::string& note,
                                   std::unique_ptr<EventStore> store, ShellSocket& shell,
                                   const volatile std::sig_atomic_t* stop) {
  CollectionPipeline pipeline{PrivacyPolicy()};
  ControlWatcher control(options.dir);
  // Filtered, then batched: no grab rule without a keyboard (app "": no
  // window is in focus, so only an allow-list policy drops these).
  auto receive = [&] {
    for (std::string& name : shell.Receive()) {
      pipeline.Offer(ShellCommandEvent(std::move(name), cli::NowMs()));
    }
    pipeline.GrabChecked(/*foreign_grab=*/false);
  };
  int64_t now = cli::NowMs();
  control.Check(pipeline);
  TACIT_RETURN_IF_ERROR(store->EnforceRetention(now).status());
  int64_t next_control = now, next_flush = now + options.batch_ms, next_beat = now,
          next_retention = now + kRetentionCheckMs;
  std::string last_stopped;
  while (*stop == 0) {
    const int64_t wait = std::clamp<int64_t>(
        std::min({next_control, next_flush, next_beat}) - cli::NowMs(), 0, 1000);
    pollfd p{shell.fd(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(wait));  // EINTR (a signal) just ends the wait
    now = cli::NowMs();
    if (now >= next_control) {
      control.Check(pipeline);  // before the datagrams, so a pause applies to them
      next_control = now + options.control_check_ms;
    }
    receive();
    if (now >= next_flush || pipeline.batch_size() >= options.batch_events) {
      const bool wrote = pipeline.batch_size() > 0;
      TACIT_RETURN_IF_ERROR(pipeline.Flush(*store, now));
      next_flush = now + options.batch_ms;
      if (wrote) next_beat = now;
    }
    if (now >= next_retention) {
      TACIT_RETURN_IF_ERROR(store->EnforceRetention(now).status());
      next_retention = now + kRetentionCheckMs;
    }
    if (now >= next_beat || control.Stopped() != last_stopped) {
      last_stopped = control.Stopped();
      WriteBeat(options, note, pipeline, control, shell, now, /*running=*/true);
      next_beat = now + kHeartbeatIntervalMs;
    }
  }
  receive();
  absl::Status flushed = pipeline.Flush(*store, cli::NowMs());
  WriteBeat(options, note, pipeline, control, shell, cli::NowMs(), /*running=*/false);
  return flushed;
}

}  // namespace tacit::collector
