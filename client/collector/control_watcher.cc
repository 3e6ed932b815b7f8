#include "client/collector/control_watcher.h"

#include <sys/stat.h>

#include "client/cli/cli_context.h"
#include "client/control_state.h"

namespace tacit::collector {

// Atomic writes replace the inode, so a same-second rewrite is still seen.
ControlWatcher::FileStamp ControlWatcher::StampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {-1, -1, 0};
  return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_size), static_cast<uint64_t>(st.st_ino)};
}

void ControlWatcher::Check(CollectionPipeline& pipeline) {
  const std::string control_path = dir_ + "/" + kControlStateFile;
  const std::string policy_path = dir_ + "/" + kPrivacyPolicyFile;
  const FileStamp control = StampOf(control_path), policy = StampOf(policy_path);
  if (control == control_stamp_ && policy == policy_stamp_) return;
  const bool policy_changed = !(policy == policy_stamp_);
  control_stamp_ = control;
  policy_stamp_ = policy;
  control_problem_.clear();
  absl::StatusOr<ControlState> state = LoadControlState(dir_);
  if (state.ok()) {
    owner_paused_ = state->collection_paused;
  } else {
    control_problem_ = std::string(state.status().message());
  }
  if (policy_changed) {
    absl::StatusOr<PrivacyPolicy> loaded = cli::LoadOrCreatePolicy(dir_);
    if (loaded.ok()) {
      pipeline.SetPolicy(*std::move(loaded));
      policy_stamp_ = StampOf(policy_path);  // LoadOrCreatePolicy may have written it
      policy_problem_.clear();
    } else {
      policy_problem_ = std::string(loaded.status().message());
    }
  }
  pipeline.SetPaused(owner_paused_ || !control_problem_.empty() || !policy_problem_.empty());
}

std::string ControlWatcher::Stopped() const {
  if (!policy_problem_.empty()) return "nothing: the privacy policy is damaged: " + policy_problem_;
  if (!control_problem_.empty()) return "nothing: " + control_problem_;
  if (owner_paused_) return "nothing: collection is paused (tacit-client resume)";
  return "";
}

}  // namespace tacit::collector
