#pragma once

// The global model on this laptop: <dir>/model/global.model (models/
// model_file.h), fetched with DownloadModel only when the held version is
// stale. An interrupted download resumes from the bytes already held
// (<dir>/model/download.part, described by download.json); the file is
// checked against the coordinator's SHA-256 and layout hash before it
// replaces the held model.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "models/model_file.h"
#include "tacit/v1/federation.grpc.pb.h"

namespace tacit::runtime {

struct HeldModel {
  int64_t version = -1;  // -1: none
  std::string layout_hash;
};

HeldModel HeldModelOf(const std::string& dir);

// The assignment's model: the held one when current, else downloaded.
// `*bytes_down` counts the bytes received.
absl::StatusOr<ModelFile> FetchModel(v1::Federation::Stub& stub, const std::string& dir,
                                     const v1::Assignment& assignment, int64_t* bytes_down);

}  // namespace tacit::runtime
