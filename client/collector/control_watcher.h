#pragma once

// The owner's switches as the running collector sees them: control.json
// (pause) and privacy_policy.json (deny/allow lists), re-read when either
// file changed (mtime, size or inode) and applied to the pipeline. A damaged
// file stops collection until it is fixed.

#include <cstdint>
#include <string>

#include "client/collector/collection_pipeline.h"

namespace tacit::collector {

class ControlWatcher {
 public:
  explicit ControlWatcher(std::string dir) : dir_(std::move(dir)) {}

  // Cheap when nothing changed (two stat calls).
  void Check(CollectionPipeline& pipeline);

  // "nothing: <why>" when the owner's files stop collection, else "".
  std::string Stopped() const;

 private:
  struct FileStamp {
    int64_t mtime_ns = -2, size = -2;
    uint64_t inode = 0;
    bool operator==(const FileStamp& o) const {
      return mtime_ns == o.mtime_ns && size == o.size && inode == o.inode;
    }
  };
  static FileStamp StampOf(const std::string& path);

  std::string dir_;
  FileStamp control_stamp_, policy_stamp_;
  bool owner_paused_ = false;
  std::string control_problem_, policy_problem_;
};

}  // namespace tacit::collector
