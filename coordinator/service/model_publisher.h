#pragma once

// The global model as clients download it: the current version encoded once
// as a model file (models/model_file.h) with its SHA-256, and the checks on a
// download request. No clock; no I/O beyond encoding in memory.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/model_config.h"

namespace tacit::coordinator {

// The encoded global model a client downloads, cached per version.
struct ModelDownload {
  std::shared_ptr<const std::string> bytes;
  std::string sha256_hex;
  int64_t version = 0;
};

class ModelPublisher {
 public:
  ModelPublisher(::tacit::ModelConfig config, std::string layout_hash)
      : config_(std::move(config)), layout_hash_(std::move(layout_hash)) {}

  // Encodes `parameters` as `version`; on error the previous version stays
  // served.
  absl::Status Publish(int64_t version, const std::vector<float>& parameters);

  // The file for a download of `version` from byte `offset`. Refusals
  // "stale_download" (not the served version) and "bad_offset".
  absl::StatusOr<ModelDownload> Serve(int64_t version, int64_t offset) const;

  bool published() const { return download_.bytes != nullptr; }
  const ModelDownload& current() const { return download_; }
  const std::string& layout_hash() const { return layout_hash_; }

 private:
  ::tacit::ModelConfig config_;
  std::string layout_hash_;
  ModelDownload download_;
};

}  // namespace tacit::coordinator
