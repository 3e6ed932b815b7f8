#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/model_config.h"

namespace tacit {

// A global model at one version, as saved by the coordinator and read by
// clients and tools. Torch-free (library tacit_model_format).
//
// File format (all integers little-endian):
//   8 bytes  magic "TACITMDL"
//   u32      format version (kModelFileFormatVersion)
//   u64      header length n
//   n bytes  header, JSON: {"model_version", "config", "layout_hash",
//            "parameter_count", "sha256"}; sha256 is SHA-256 (hex) over the
//            header's canonical JSON without "sha256" (nlohmann dump(), keys
//            sorted) followed by the payload
//   payload  parameter_count float32 values in the config's ParameterLayout
// Loading refuses, with an error naming the problem, a wrong magic or format
// version, a truncated or oversized file, a header that is not valid JSON, an
// invalid config, a layout hash that does not match the config, a parameter
// count that does not match the layout, and any header or payload byte that fails the SHA-256
// check.
inline constexpr uint32_t kModelFileFormatVersion = 1;

struct ModelFile {
  int64_t model_version = 0;
  ModelConfig config;
  std::string layout_hash;
  std::vector<float> parameters;
};

// Checks the parameters against LayoutOf(config) and writes atomically
// (common/file_io.h), so a crash leaves the old file or the new one.
absl::Status SaveModelFile(const std::string& path, const ModelFile& model);

absl::StatusOr<ModelFile> LoadModelFile(const std::string& path);

// As above, and FailedPrecondition unless the file's layout hash equals
// `expected_layout_hash` (a client refuses a model of another task).
absl::StatusOr<ModelFile> LoadModelFile(const std::string& path,
                                        const std::string& expected_layout_hash);

// The same encoding in memory, for transport.
absl::StatusOr<std::string> EncodeModelFile(const ModelFile& model);
absl::StatusOr<ModelFile> DecodeModelFile(const std::string& bytes);

}  // namespace tacit
