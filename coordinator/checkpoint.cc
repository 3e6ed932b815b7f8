#include "coordinator/checkpoint.h"

#include <openssl/crypto.h>

#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace tacit::coordinator {
namespace {

constexpr char kMagic[8] = {'T', 'A', 'C', 'I', 'T', 'C', 'K', '1'};
constexpr size_t kDigest = 32;

struct Header {
  char magic[8];
  int64_t version;
  int64_t task_id;
  uint64_t model_floats;
  uint64_t state_bytes;
};
constexpr size_t kPrefix = sizeof(Header) + kDigest;

static_assert(kDigest == kSha256Bytes);

// SHA-256 of `a` followed by `b` (common/sha256.h; every EVP call checked).
absl::StatusOr<Sha256Digest> DigestOf(std::string_view a, std::string_view b) {
  return Sha256Hasher().Update(a).Update(b).Finish();
}

}  // namespace

absl::StatusOr<std::string> EncodeCheckpoint(const Checkpoint& c) {
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = c.version;
  h.task_id = c.task_id;
  h.model_floats = c.model.size();
  h.state_bytes = c.optimizer_state.size();
  std::string payload(reinterpret_cast<const char*>(c.model.data()),
                      c.model.size() * sizeof(float));
  payload += c.optimizer_state;
  std::string out(reinterpret_cast<const char*>(&h), sizeof(h));
  TACIT_ASSIGN_OR_RETURN(const Sha256Digest digest, DigestOf(out, payload));
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  out += payload;
  return out;
}

absl::StatusOr<Checkpoint> DecodeCheckpoint(const std::string& bytes) {
  if (bytes.size() < kPrefix) {
    return absl::DataLossError(
        absl::StrCat("checkpoint is truncated: ", bytes.size(), " bytes, header needs ", kPrefix));
  }
  Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError("checkpoint has a wrong magic; not a tacit checkpoint");
  }
  if (h.model_floats > bytes.size() / sizeof(float) ||
      bytes.size() != kPrefix + h.model_floats * sizeof(float) + h.state_bytes) {
    return absl::DataLossError(
        absl::StrCat("checkpoint size ", bytes.size(), " does not match its header (",
                     h.model_floats, " floats + ", h.state_bytes, " state bytes); truncated?"));
  }
  const std::string_view all(bytes);
  TACIT_ASSIGN_OR_RETURN(Sha256Digest digest,
                         DigestOf(all.substr(0, sizeof(h)), all.substr(kPrefix)));
  if (CRYPTO_memcmp(digest.data(), bytes.data() + sizeof(h), kDigest) != 0) {
    return absl::DataLossError("checkpoint checksum mismatch: the file is corrupt");
  }
  Checkpoint c;
  c.version = h.version;
  c.task_id = h.task_id;
  c.model.resize(h.model_floats);
  std::memcpy(c.model.data(), bytes.data() + kPrefix, h.model_floats * sizeof(float));
  c.optimizer_state = bytes.substr(kPrefix + h.model_floats * sizeof(float));
  return c;
}

absl::StatusOr<std::string> WriteCheckpointFile(const std::string& path, const Checkpoint& c) {
  TACIT_ASSIGN_OR_RETURN(std::string bytes, EncodeCheckpoint(c));
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(path, bytes, 0600));
  return ::tacit::Sha256Hex(bytes);
}

absl::StatusOr<Checkpoint> ReadCheckpointFile(const std::string& path,
                                              const std::string& expected_sha256_hex) {
  TACIT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (!expected_sha256_hex.empty()) {
    TACIT_ASSIGN_OR_RETURN(std::string actual, ::tacit::Sha256Hex(bytes));
    if (actual != expected_sha256_hex) {
      return absl::DataLossError(
          absl::StrCat("checkpoint ", path,
                       " does not match the digest recorded at commit; corrupt or replaced"));
    }
  }
  absl::StatusOr<Checkpoint> c = DecodeCheckpoint(bytes);
  if (!c.ok()) return absl::DataLossError(absl::StrCat(path, ": ", c.status().message()));
  return c;
}

}  // namespace tacit::coordinator
