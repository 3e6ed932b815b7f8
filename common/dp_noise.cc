#include "common/dp_noise.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tacit {
namespace {
constexpr size_t kBlockWords = 512;  // keystream words produced per refill
}

struct GaussianNoise::Cipher {
  EVP_CIPHER_CTX* ctx = nullptr;
  uint64_t words[kBlockWords];
  size_t next = kBlockWords;
  ~Cipher() {
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(words, sizeof(words));
  }
};

absl::StatusOr<double> PerClientNoiseStddev(double noise_multiplier, double clip_norm,
                                            int min_clients) {
  if (!(noise_multiplier >= 0) || !(clip_norm > 0) || min_clients < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "per-client noise needs noise_multiplier >= 0, clip_norm > 0 and min_clients >= 1; got ",
        noise_multiplier, ", ", clip_norm, ", ", min_clients));
  }
  return noise_multiplier * clip_norm / std::sqrt(static_cast<double>(min_clients));
}

GaussianNoise::GaussianNoise(std::unique_ptr<Cipher> cipher) : cipher_(std::move(cipher)) {}
GaussianNoise::GaussianNoise(GaussianNoise&&) noexcept = default;
GaussianNoise& GaussianNoise::operator=(GaussianNoise&&) noexcept = default;
GaussianNoise::~GaussianNoise() = default;

absl::StatusOr<GaussianNoise> GaussianNoise::FromSeed(const Seed& seed) {
  auto cipher = std::make_unique<Cipher>();
  cipher->ctx = EVP_CIPHER_CTX_new();
  const uint8_t iv[16] = {0};
  if (cipher->ctx == nullptr ||
      EVP_EncryptInit_ex(cipher->ctx, EVP_aes_256_ctr(), nullptr, seed.data(), iv) != 1) {
    return absl::InternalError("OpenSSL could not set up AES-256-CTR for the noise generator");
  }
  return GaussianNoise(std::move(cipher));
}

absl::StatusOr<GaussianNoise> GaussianNoise::FromOsEntropy() {
  Seed seed;
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return absl::UnavailableError("RAND_bytes failed: the OS entropy source is not available");
  }
  absl::StatusOr<GaussianNoise> noise = FromSeed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  return noise;
}

uint64_t GaussianNoise::NextWord() {
  Cipher& c = *cipher_;
  if (c.next == kBlockWords) {
    // Encrypting zeros yields the raw CTR keystream.
    std::memset(c.words, 0, sizeof(c.words));
    int len = 0;
    auto* bytes = reinterpret_cast<unsigned char*>(c.words);
    if (EVP_EncryptUpdate(c.ctx, bytes, &len, bytes, sizeof(c.words)) != 1 ||
        len != static_cast<int>(sizeof(c.words))) {
      // AES-CTR on a set-up context does not fail; if OpenSSL ever does, stop
      // rather than emit unnoised or predictable values.
      std::abort();
    }
    c.next = 0;
  }
  return c.words[c.next++];
}

double GaussianNoise::Next() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // Uniforms in (0, 1) from the top 53 bits (+0.5 keeps them off 0 and 1).
  auto uniform = [this] { return ((NextWord() >> 11) + 0.5) * 0x1.0p-53; };
  double u1 = uniform();
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  double theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

void GaussianNoise::Add(absl::Span<float> values, double stddev) {
  for (float& v : values) v += static_cast<float>(stddev * Next());
}

}  // namespace tacit
