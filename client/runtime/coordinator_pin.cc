#include "client/runtime/coordinator_pin.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/openssl_ptr.h"
#include "common/status_macros.h"
#include "secure_agg/signatures.h"

namespace tacit::runtime {
namespace {

X509Ptr ParsePem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

}  // namespace

absl::StatusOr<std::string> CertificateFingerprint(const std::string& cert_pem) {
  X509Ptr cert = ParsePem(cert_pem);
  if (!cert) return absl::InvalidArgumentError("not a PEM X.509 certificate");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &length) != 1 || length != 32) {
    return absl::InternalError(absl::StrCat("X509_digest: ", secagg::TakeOpenSslError()));
  }
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    absl::StrAppendFormat(&out, "%s%02X", i == 0 ? "" : ":", digest[i]);
  }
  return out;
}

absl::StatusOr<std::string> NormalizeFingerprint(const std::string& fingerprint) {
  std::string hex;
  bool only_hex = true;
  for (char c : fingerprint) {
    if (c == ':') continue;
    only_hex = only_hex && absl::ascii_isxdigit(static_cast<unsigned char>(c));
    hex.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 64 || !only_hex) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", fingerprint, "' is not a SHA-256 fingerprint (64 hex digits, colons optional)"));
  }
  std::string normalized;
  for (size_t i = 0; i < hex.size(); i += 2) {
    absl::StrAppend(&normalized, i == 0 ? "" : ":", hex.substr(i, 2));
  }
  return normalized;
}

absl::Status CheckPinnedCertificate(const std::string& pinned, const std::string& presented_pem) {
  TACIT_ASSIGN_OR_RETURN(std::string presented, CertificateFingerprint(presented_pem));
  const std::string want = absl::AsciiStrToUpper(pinned);
  if (want.size() == presented.size() &&
      CRYPTO_memcmp(want.data(), presented.data(), want.size()) == 0) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "the coordinator presented certificate SHA-256 ", presented,
      ", not the one pinned at enrollment (", want,
      "); the connection was closed in the TLS handshake and nothing was sent to it. If the "
      "operator replaced the coordinator's certificate, confirm the new fingerprint with them "
      "and run `tacit-client enroll` again"));
}

absl::StatusOr<std::string> ExpectedCoordinatorName(const Enrollment& enrollment) {
  if (!enrollment.server_name.empty()) return enrollment.server_name;
  const std::string& address = enrollment.coordinator;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("coordinator address '", address, "' is not HOST:PORT; enroll again"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

absl::Status CheckPresentedCoordinator(const Enrollment& enrollment,
                                       const std::string& presented_pem) {
  X509Ptr cert = ParsePem(presented_pem);
  if (!cert) return absl::PermissionDeniedError("the coordinator presented no certificate");
  TACIT_ASSIGN_OR_RETURN(std::string name, ExpectedCoordinatorName(enrollment));
  // X509_check_ip_asc says -2 when `name` is not an IP address.
  int named = X509_check_ip_asc(cert.get(), name.c_str(), 0);
  if (named == -2) named = X509_check_host(cert.get(), name.data(), name.size(), 0, nullptr);
  if (named != 1) {
    return absl::PermissionDeniedError(
        absl::StrCat("the coordinator at ", enrollment.coordinator,
                     " presented a fleet certificate that does not name ", name,
                     ": its certificate must name the address dialled (`tacit-coordinator pki init "
                     "--server-name`), or enroll with --server-name set to the name it carries"));
  }
  if (enrollment.server_sha256.empty()) return absl::OkStatus();
  return CheckPinnedCertificate(enrollment.server_sha256, presented_pem);
}

void CoordinatorHandshakes::Accepted(const std::string& presented_pem) {
  std::lock_guard<std::mutex> lock(mu_);
  last_accepted_ = presented_pem;
  latest_refusal_ = absl::OkStatus();
}

void CoordinatorHandshakes::Refused(const absl::Status& why) {
  std::lock_guard<std::mutex> lock(mu_);
  latest_refusal_ = why;
  ++refusals_;
}

std::string CoordinatorHandshakes::last_accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_accepted_;
}

absl::Status CoordinatorHandshakes::latest_refusal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_refusal_;
}

int64_t CoordinatorHandshakes::refusals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refusals_;
}

}  // namespace tacit::runtime
