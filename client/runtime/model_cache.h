#pragma once

// The global model on this laptop: <dir>/model/global.model (models/
// model_file.h), fetched with DownloadModel only when the held version is
// stale. An interrupted download resumes from the bytes already held
// (<dir>/model/download.part, described by download.json); the file is
// checked against the coordinator's SHA-256 and layout hash before it
// replaces the held model. A download budget (metered network, battery)
// stops a download at the first chunk boundary at or past the budget; the
// bytes held stay and the next assignment of the same version continues.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/runtime/audit_log.h"
#include "models/model_file.h"
#include "tacit/v1/federation.grpc.pb.h"
#include "task/task_config.h"

namespace tacit::runtime {

struct HeldModel {
  int64_t version = -1;  // -1: none
  std::string layout_hash;
};

HeldModel HeldModelOf(const std::string& dir);

// The task of the last assignment (<dir>/model/task.json, written by the
// daemon when the coordinator sends a valid one); nullopt before the first.
std::optional<TaskConfig> LastAssignedTask(const std::string& dir);

// Bytes of the partial download of `version` held in <dir>/model (0: none).
int64_t HeldDownloadBytes(const std::string& dir, int64_t version);

// The assignment's model: the held one when current, else downloaded,
// at most `max_download_bytes` of it this time (0: no limit; a spent budget
// is RESOURCE_EXHAUSTED, the partial kept). `*counted` gains the
// DownloadModel call: the request's serialized bytes up, every chunk's down.
absl::StatusOr<ModelFile> FetchModel(v1::Federation::Stub& stub, const std::string& dir,
                                     const v1::Assignment& assignment, int64_t max_download_bytes,
                                     RpcBytes* counted);

}  // namespace tacit::runtime
