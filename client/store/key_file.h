#pragma once

// The store's 256-bit key, kept in a file only its owner can read (mode 0600)
// and wiped from memory when no longer needed.

#include <string>

#include "absl/status/statusor.h"

namespace tacit {

class SecretKey {
 public:
  static constexpr size_t kBytes = 32;
  explicit SecretKey(std::string bytes) : bytes_(std::move(bytes)) {}
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  const std::string& bytes() const { return bytes_; }
  // Constant-time comparison.
  bool Equals(const SecretKey& other) const;

 private:
  void Wipe();
  std::string bytes_;
};

// 32 bytes from the OpenSSL CSPRNG.
absl::StatusOr<SecretKey> GenerateSecretKey();

// Reads the key file (64 hex characters). Refuses a file that group or
// others may read or that another user owns (PermissionDenied with the chmod
// to run); NotFound when missing.
absl::StatusOr<SecretKey> ReadKeyFile(const std::string& path);

// Reads the key file, or creates it with a new key (mode 0600, created
// exclusively so two processes cannot race to different keys).
absl::StatusOr<SecretKey> LoadOrCreateKeyFile(const std::string& path);

}  // namespace tacit
