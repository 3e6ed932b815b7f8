#include "coordinator/pki_revocation.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_io.h"
#include "common/openssl_ptr.h"
#include "common/status_macros.h"
#include "coordinator/pki.h"

namespace tacit::coordinator {
namespace {

absl::StatusOr<X509Ptr> ReadCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a PEM X.509 certificate");
  }
  return cert;
}

// The lines of DIR/NAME split on spaces, each with exactly `fields` fields;
// a missing file has none.
absl::StatusOr<std::vector<std::vector<std::string>>> ReadTable(const std::string& path,
                                                                size_t fields) {
  std::vector<std::vector<std::string>> rows;
  if (!std::filesystem::exists(path)) return rows;
  TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> row = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (row.size() != fields) {
      return absl::DataLossError(absl::StrCat(path, " line ", line_number, " has ", row.size(),
                                              " fields, expected ", fields,
                                              "; restore the file from a backup"));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::Status BadNumber(const std::string& path, const std::string& field) {
  return absl::DataLossError(
      absl::StrCat(path, ": '", field, "' is not a number; restore the file from a backup"));
}

int64_t NowSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

absl::StatusOr<std::string> CertificateSerialHex(const std::string& cert_pem) {
  TACIT_ASSIGN_OR_RETURN(X509Ptr cert, ReadCert(cert_pem));
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  char* hex = bn ? BN_bn2hex(bn.get()) : nullptr;
  if (hex == nullptr) return absl::InternalError("cannot read the certificate's serial number");
  std::string out = absl::AsciiStrToLower(hex);
  OPENSSL_free(hex);
  return out;
}

absl::StatusOr<int64_t> CertificateNotAfter(const std::string& cert_pem) {
  TACIT_ASSIGN_OR_RETURN(X509Ptr cert, ReadCert(cert_pem));
  struct tm when = {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &when) != 1) {
    return absl::InternalError("cannot read the certificate's notAfter");
  }
  return static_cast<int64_t>(timegm(&when));
}

absl::StatusOr<std::vector<IssuedCertificate>> ReadIssuedLog(const std::string& pki_dir) {
  const std::string path = absl::StrCat(pki_dir, "/", kIssuedLogFile);
  TACIT_ASSIGN_OR_RETURN(auto rows, ReadTable(path, 4));
  std::vector<IssuedCertificate> out;
  for (const auto& row : rows) {
    IssuedCertificate c;
    if (!absl::SimpleAtoi(row[0], &c.issued_at)) return BadNumber(path, row[0]);
    c.device_id = row[1];
    c.serial_hex = row[2];
    if (!absl::SimpleAtoi(row[3], &c.not_after)) return BadNumber(path, row[3]);
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::vector<RevokedSerial>> ReadRevocations(const std::string& pki_dir) {
  const std::string path = absl::StrCat(pki_dir, "/", kRevokedFile);
  TACIT_ASSIGN_OR_RETURN(auto rows, ReadTable(path, 3));
  std::vector<RevokedSerial> out;
  for (const auto& row : rows) {
    RevokedSerial r;
    r.serial_hex = row[0];
    r.device_id = row[1];
    if (!absl::SimpleAtoi(row[2], &r.revoked_at)) return BadNumber(path, row[2]);
    out.push_back(std::move(r));
  }
  return out;
}

absl::Status RecordIssued(const std::string& pki_dir, const std::string& device_id,
                          const std::string& cert_pem) {
  TACIT_ASSIGN_OR_RETURN(std::string serial, CertificateSerialHex(cert_pem));
  TACIT_ASSIGN_OR_RETURN(int64_t not_after, CertificateNotAfter(cert_pem));
  return AppendLineDurably(absl::StrCat(pki_dir, "/", kIssuedLogFile),
                           absl::StrCat(NowSeconds(), " ", device_id, " ", serial, " ", not_after));
}

absl::StatusOr<std::vector<std::string>> RevokeDeviceInFolder(const std::string& pki_dir,
                                                              const std::string& device_id) {
  TACIT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  std::vector<std::string> serials;
  TACIT_ASSIGN_OR_RETURN(std::vector<IssuedCertificate> issued, ReadIssuedLog(pki_dir));
  for (const IssuedCertificate& c : issued) {
    if (c.device_id == device_id) serials.push_back(c.serial_hex);
  }
  const std::string current = absl::StrCat(pki_dir, "/devices/", device_id, ".crt");
  if (std::filesystem::exists(current)) {
    TACIT_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(current));
    TACIT_ASSIGN_OR_RETURN(std::string serial, CertificateSerialHex(pem));
    serials.push_back(serial);
  }
  if (serials.empty()) {
    return absl::NotFoundError(absl::StrCat("no certificate was issued to device '", device_id,
                                            "' from ", pki_dir, " (see `pki list`)"));
  }
  TACIT_ASSIGN_OR_RETURN(std::vector<RevokedSerial> revoked, ReadRevocations(pki_dir));
  std::set<std::string> known;
  for (const RevokedSerial& r : revoked) known.insert(r.serial_hex);
  // Appended line by line: a concurrent revocation may add a duplicate line,
  // which is harmless, but never loses one.
  std::vector<std::string> added;
  for (const std::string& serial : serials) {
    if (!known.insert(serial).second) continue;
    TACIT_RETURN_IF_ERROR(
        AppendLineDurably(absl::StrCat(pki_dir, "/", kRevokedFile),
                          absl::StrCat(serial, " ", device_id, " ", NowSeconds())));
    added.push_back(serial);
  }
  return added;
}

absl::StatusOr<std::vector<ListedCertificate>> ListCertificatesInFolder(
    const std::string& pki_dir) {
  TACIT_ASSIGN_OR_RETURN(std::vector<IssuedCertificate> issued, ReadIssuedLog(pki_dir));
  std::set<std::string> logged;
  for (const IssuedCertificate& c : issued) logged.insert(c.serial_hex);
  std::error_code error;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(pki_dir + "/devices", error)) {
    if (entry.path().extension() == ".crt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    TACIT_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(file.string()));
    IssuedCertificate c;
    TACIT_ASSIGN_OR_RETURN(c.serial_hex, CertificateSerialHex(pem));
    if (logged.count(c.serial_hex) > 0) continue;
    c.device_id = file.stem().string();
    TACIT_ASSIGN_OR_RETURN(c.not_after, CertificateNotAfter(pem));
    issued.insert(issued.begin(), c);  // issued before the log existed
  }
  TACIT_ASSIGN_OR_RETURN(std::vector<RevokedSerial> revoked, ReadRevocations(pki_dir));
  std::set<std::string> denied;
  for (const RevokedSerial& r : revoked) denied.insert(r.serial_hex);
  std::vector<ListedCertificate> out;
  const int64_t now = NowSeconds();
  for (IssuedCertificate& c : issued) {
    ListedCertificate row;
    row.revoked = denied.count(c.serial_hex) > 0;
    row.expired = c.not_after < now;
    row.certificate = std::move(c);
    out.push_back(std::move(row));
  }
  return out;
}

absl::Status RevocationList::ReloadIfChanged() {
  const std::string path = absl::StrCat(pki_dir_, "/", kRevokedFile);
  FileStamp now;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    now.exists = true;
    now.inode = st.st_ino;
    now.size = st.st_size;
    now.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  } else if (errno != ENOENT) {
    loaded_ = false;
    return absl::UnavailableError(absl::StrCat("cannot stat the revocation list ", path,
                                               "; every call is refused until it is readable"));
  }
  if (loaded_ && now == stamp_) return absl::OkStatus();
  absl::StatusOr<std::vector<RevokedSerial>> revoked = ReadRevocations(pki_dir_);
  if (!revoked.ok()) {
    loaded_ = false;
    return absl::UnavailableError(absl::StrCat("the revocation list is unreadable (",
                                               revoked.status().message(),
                                               "); every call is refused until it is mended"));
  }
  revoked_.clear();
  for (const RevokedSerial& r : *revoked) revoked_.insert(r.serial_hex);
  stamp_ = now;
  loaded_ = true;
  return absl::OkStatus();
}

absl::Status RevocationList::Check(const std::string& serial_hex, const std::string& device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TACIT_RETURN_IF_ERROR(ReloadIfChanged());
  if (revoked_.count(serial_hex) == 0) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "the certificate of device '", device_id, "' (serial ", serial_hex,
      ") was revoked by the fleet operator; ask the operator for a new one (tacit-coordinator "
      "pki issue --replace) and enroll again"));
}

}  // namespace tacit::coordinator
