#include "client/store/key_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tacit {

SecretKey::SecretKey(SecretKey&& other) noexcept : bytes_(std::move(other.bytes_)) { other.Wipe(); }

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.Wipe();
  }
  return *this;
}

SecretKey::~SecretKey() { Wipe(); }

void SecretKey::Wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

bool SecretKey::Equals(const SecretKey& other) const {
  return bytes_.size() == other.bytes_.size() &&
         CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0;
}

absl::StatusOr<SecretKey> GenerateSecretKey() {
  std::string bytes(SecretKey::kBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) !=
      1) {
    return absl::InternalError("the OpenSSL random generator failed; cannot create a store key");
  }
  return SecretKey(std::move(bytes));
}

absl::StatusOr<SecretKey> ReadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT)
      return absl::NotFoundError(absl::StrCat("store key file '", path, "' does not exist"));
    return absl::PermissionDeniedError(
        absl::StrCat("cannot open store key file '", path, "': ", std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::PermissionDeniedError(
        absl::StrCat("store key file '", path, "' is not a regular file"));
  }
  if ((st.st_mode & 077) != 0 || st.st_uid != ::geteuid()) {
    ::close(fd);
    return absl::PermissionDeniedError(absl::StrFormat(
        "store key file '%s' has mode %04o or another owner; only you may read it: run "
        "`chmod 600 %s` (and check who else could have read it)",
        path, st.st_mode & 07777, path));
  }
  std::string hex(2 * SecretKey::kBytes + 2, '\0');
  ssize_t n = ::read(fd, hex.data(), hex.size());
  ::close(fd);
  hex.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  bool valid = hex.size() == 2 * SecretKey::kBytes &&
               hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (!valid) {
    OPENSSL_cleanse(hex.data(), hex.size());
    return absl::DataLossError(absl::StrCat("store key file '", path,
                                            "' does not hold 64 hex characters; it was damaged "
                                            "(without the right key the store cannot be read)"));
  }
  std::string bytes = absl::HexStringToBytes(hex);
  OPENSSL_cleanse(hex.data(), hex.size());
  return SecretKey(std::move(bytes));
}

absl::StatusOr<SecretKey> LoadOrCreateKeyFile(const std::string& path) {
  absl::StatusOr<SecretKey> existing = ReadKeyFile(path);
  if (existing.ok() || existing.status().code() != absl::StatusCode::kNotFound) return existing;
  absl::StatusOr<SecretKey> key = GenerateSecretKey();
  if (!key.ok()) return key.status();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return ReadKeyFile(path);  // another process created it first
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create store key file '", path, "': ", std::strerror(errno)));
  }
  std::string hex = absl::BytesToHexString(key->bytes()) + "\n";
  bool ok =
      ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  OPENSSL_cleanse(hex.data(), hex.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return absl::InternalError(absl::StrCat("could not write store key file '", path, "'"));
  }
  return key;
}

}  // namespace tacit
