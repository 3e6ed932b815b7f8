#include "common/sha256.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "common/openssl_ptr.h"

namespace tacit {

struct Sha256Hasher::State {
  EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
  bool ok = false;
};

Sha256Hasher::Sha256Hasher() : state_(new State) {
  state_->ok =
      state_->ctx != nullptr && EVP_DigestInit_ex(state_->ctx.get(), EVP_sha256(), nullptr) == 1;
}

Sha256Hasher::~Sha256Hasher() { delete state_; }

Sha256Hasher& Sha256Hasher::Update(absl::Span<const uint8_t> bytes) {
  if (state_->ok && !bytes.empty()) {
    state_->ok = EVP_DigestUpdate(state_->ctx.get(), bytes.data(), bytes.size()) == 1;
  }
  return *this;
}

Sha256Hasher& Sha256Hasher::Update(std::string_view bytes) {
  return Update(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

absl::StatusOr<Sha256Digest> Sha256Hasher::Finish() {
  Sha256Digest digest{};
  unsigned int length = 0;
  if (!state_->ok || EVP_DigestFinal_ex(state_->ctx.get(), digest.data(), &length) != 1 ||
      length != digest.size()) {
    state_->ok = false;
    return absl::InternalError(
        "OpenSSL SHA-256 failed (EVP_Digest*); the OpenSSL build may "
        "lack SHA-256 or be out of memory");
  }
  state_->ok = false;
  return digest;
}

absl::StatusOr<Sha256Digest> Sha256(absl::Span<const uint8_t> bytes) {
  return Sha256Hasher().Update(bytes).Finish();
}

absl::StatusOr<Sha256Digest> Sha256(std::string_view bytes) {
  return Sha256Hasher().Update(bytes).Finish();
}

std::string DigestHex(const Sha256Digest& digest) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

absl::StatusOr<std::string> Sha256Hex(std::string_view bytes) {
  auto digest = Sha256(bytes);
  if (!digest.ok()) return digest.status();
  return DigestHex(*digest);
}

}  // namespace tacit
