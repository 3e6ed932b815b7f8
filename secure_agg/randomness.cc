#include "secure_agg/randomness.h"

#include <string>

#include "common/secure_random.h"
#include "common/sha256.h"

namespace tacit::secagg {

absl::Status SecureRandomSource::Fill(absl::Span<uint8_t> out) { return SecureRandomBytes(out); }

RandomSource& ProductionRandomSource() {
  static SecureRandomSource* const source = new SecureRandomSource();
  return *source;
}

std::shared_ptr<RandomSource> ResolveRandomSource(std::shared_ptr<RandomSource> source) {
  if (source != nullptr) return source;
  // Aliasing constructor: shares no ownership of the immortal production source.
  return std::shared_ptr<RandomSource>(std::shared_ptr<RandomSource>(), &ProductionRandomSource());
}

absl::StatusOr<std::shared_ptr<SeededRandomSourceForTesting>> SeededRandomSourceForTesting::Create(
    const SecretKey& seed) {
  auto stream = AesCtrStream::Create(seed);
  if (!stream.ok()) return stream.status();
  return std::shared_ptr<SeededRandomSourceForTesting>(
      new SeededRandomSourceForTesting(std::move(*stream)));
}

absl::StatusOr<std::shared_ptr<SeededRandomSourceForTesting>>
SeededRandomSourceForTesting::FromSeed(uint64_t seed, std::string_view label) {
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(seed >> (8 * i));
  Sha256Hasher hasher;
  hasher.Update(std::string_view("tacit.secagg.test-randomness"));
  hasher.Update(label);
  hasher.Update(absl::MakeConstSpan(le));
  auto digest = hasher.Finish();
  if (!digest.ok()) return digest.status();
  SecretKey key(*digest);
  Zeroize(absl::MakeSpan(*digest));
  return Create(key);
}

absl::Status SeededRandomSourceForTesting::Fill(absl::Span<uint8_t> out) {
  std::lock_guard<std::mutex> lock(mu_);
  return stream_.Generate(out);
}

absl::StatusOr<SecretKey> DrawSecretKey(RandomSource& random) {
  SecretKey key;
  absl::Status status = random.Fill(absl::MakeSpan(key.data(), SecretKey::size()));
  if (!status.ok()) return status;
  return key;
}

}  // namespace tacit::secagg
