#pragma once

// The global model and server optimizer state after a committed round, as one
// self-checking file. Layout (little-endian):
//   "TACITCK1" | version:i64 | task_id:i64 | model_floats:u64 | state_bytes:u64
//   | sha256(all preceding header bytes + payload):32 | model floats | state
// A file whose checksum, magic or sizes do not match is refused with
// DataLoss, never half-used.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit::coordinator {

struct Checkpoint {
  int64_t task_id = 0;
  int64_t version = 0;  // model version; round r commits version r, 0 is the initial model
  std::vector<float> model;
  std::string optimizer_state;  // ServerOptimizer::SerializeState()
};

// Internal only when OpenSSL's SHA-256 fails (a broken OpenSSL build).
absl::StatusOr<std::string> EncodeCheckpoint(const Checkpoint& checkpoint);
absl::StatusOr<Checkpoint> DecodeCheckpoint(const std::string& bytes);

// Encodes and writes atomically (0600). Returns the hex digest of the file.
absl::StatusOr<std::string> WriteCheckpointFile(const std::string& path,
                                                const Checkpoint& checkpoint);
// Reads, verifies against `expected_sha256_hex` (if non-empty) and decodes.
absl::StatusOr<Checkpoint> ReadCheckpointFile(const std::string& path,
                                              const std::string& expected_sha256_hex);

}  // namespace tacit::coordinator
