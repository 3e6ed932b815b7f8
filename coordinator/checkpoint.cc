#include "coordinator/checkpoint.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/file_io.h"
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

std::string Sha256(const char* a, size_t a_len, const char* b, size_t b_len) {
  unsigned char out[kDigest];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, a, a_len) == 1 && EVP_DigestUpdate(ctx, b, b_len) == 1 &&
            EVP_DigestFinal_ex(ctx, out, &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) std::abort();  // SHA-256 cannot fail on a working OpenSSL
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::string Sha256Hex(const std::string& bytes) {
  return absl::BytesToHexString(Sha256(bytes.data(), bytes.size(), nullptr, 0));
}

std::string EncodeCheckpoint(const Checkpoint& c) {
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
  out += Sha256(out.data(), out.size(), payload.data(), payload.size());
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
  std::string digest =
      Sha256(bytes.data(), sizeof(h), bytes.data() + kPrefix, bytes.size() - kPrefix);
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
  std::string bytes = EncodeCheckpoint(c);
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(path, bytes, 0600));
  return Sha256Hex(bytes);
}

absl::StatusOr<Checkpoint> ReadCheckpointFile(const std::string& path,
                                              const std::string& expected_sha256_hex) {
  TACIT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (!expected_sha256_hex.empty() && Sha256Hex(bytes) != expected_sha256_hex) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint ", path, " does not match the digest recorded at commit; corrupt or replaced"));
  }
  absl::StatusOr<Checkpoint> c = DecodeCheckpoint(bytes);
  if (!c.ok()) return absl::DataLossError(absl::StrCat(path, ": ", c.status().message()));
  return c;
}

}  // namespace tacit::coordinator
