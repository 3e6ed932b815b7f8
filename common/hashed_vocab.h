#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tacit {

// The hashing trick: every client maps the same event feature string (e.g.
// "cmd:ls", "key:letter", "chord:ctrl+c") to the same token id without any
// central vocabulary. Size and salt come from the task config, so changing the
// salt reshuffles collisions for a new task.
//
// Token 0 is reserved for padding; real features map to [1, size).
// The hash is FNV-1a 64 over salt, a 0 byte, then the feature: stable across
// platforms and releases (changing it changes every model, so it is versioned
// by kHashVersion and recorded with models).
class HashedVocabulary {
 public:
  static constexpr int32_t kPadding = 0;
  static constexpr int kHashVersion = 1;
  static constexpr uint32_t kMinSize = 2;
  static constexpr uint32_t kMaxSize = 1u << 24;

  // InvalidArgument when size is outside [kMinSize, kMaxSize].
  static absl::StatusOr<HashedVocabulary> Create(uint32_t size, std::string salt);

  int32_t TokenOf(absl::string_view feature) const;
  uint32_t size() const { return size_; }
  const std::string& salt() const { return salt_; }

 private:
  HashedVocabulary(uint32_t size, std::string salt) : size_(size), salt_(std::move(salt)) {}
  uint32_t size_;
  std::string salt_;
};

}  // namespace tacit
