#include "common/hashed_vocab.h"

#include "absl/strings/str_cat.h"

namespace tacit {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t Fnv1a(uint64_t hash, absl::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

}  // namespace

absl::StatusOr<HashedVocabulary> HashedVocabulary::Create(uint32_t size, std::string salt) {
  if (size < kMinSize || size > kMaxSize) {
    return absl::InvalidArgumentError(absl::StrCat("vocabulary size ", size,
                                                   " is out of range; choose a size in [", kMinSize,
                                                   ", ", kMaxSize, "] (4096 is a good default)"));
  }
  return HashedVocabulary(size, std::move(salt));
}

int32_t HashedVocabulary::TokenOf(absl::string_view feature) const {
  uint64_t hash = Fnv1a(kFnvOffset, salt_);
  hash = Fnv1a(hash, absl::string_view("\0", 1));
  hash = Fnv1a(hash, feature);
  // Fold the high bits in: FNV's low bits alone are weak for small moduli.
  hash ^= hash >> 29;
  return static_cast<int32_t>(1 + hash % (size_ - 1));
}

}  // namespace tacit
