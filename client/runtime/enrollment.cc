#include "client/runtime/enrollment.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/store/erase_store.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/openssl_ptr.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "secure_agg/identity.h"
#include "secure_agg/protocol.h"

namespace tacit::runtime {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

std::unique_ptr<X509, X509Free> ParseCertificate(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return std::unique_ptr<X509, X509Free>(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::string FleetDir(const std::string& dir) { return dir + "/fleet"; }

std::string CredentialPath(const std::string& dir) { return FleetDir(dir) + "/secagg.cred"; }

// What re-issuing takes, for every credential refusal.
constexpr char kReissue[] =
    "ask the fleet operator to re-issue this device (`tacit-coordinator pki issue DEVICE "
    "--replace`) and enroll with the new .key, .crt and .cred";

// The credential must be for `key_pem`'s key and signed by the CA in
// `ca_pem`: a laptop that stored a wrong one would leave every round.
absl::Status CheckCredential(const std::string& credential_path, const std::string& credential,
                             const std::string& key_pem, const std::string& ca_pem) {
  const secagg::ByteSpan bytes = secagg::AsBytes(credential);
  absl::Status usable = secagg::CredentialSigner::Create(key_pem, bytes).status();
  if (usable.ok()) {
    absl::StatusOr<std::unique_ptr<secagg::CredentialVerifier>> verifier =
        secagg::CredentialVerifier::FromPem(ca_pem);
    usable = verifier.ok() ? (*verifier)->CheckCredential(bytes) : verifier.status();
  }
  if (!usable.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(credential_path, " is not a usable SecAgg ",
                                                   "credential (", usable.message(),
                                                   "): ", kReissue));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CertificateCommonName(const std::string& cert_pem) {
  auto cert = ParseCertificate(cert_pem);
  if (!cert) return absl::InvalidArgumentError("not a PEM X.509 certificate");
  char cn[256] = {0};
  int n =
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  if (n <= 0) return absl::InvalidArgumentError("the certificate's subject has no CN");
  return std::string(cn, static_cast<size_t>(n));
}

absl::StatusOr<Enrollment> ReadEnrollmentFiles(const std::string& coordinator,
                                               const std::string& ca_path,
                                               const std::string& cert_path,
                                               const std::string& key_path,
                                               const std::string& server_name,
                                               const std::string& credential_path) {
  const std::string cred_path =
      credential_path.empty() ? std::filesystem::path(cert_path).replace_extension(".cred").string()
                              : credential_path;
  absl::StatusOr<std::string> credential = ReadFileToString(cred_path);
  if (!credential.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no SecAgg credential at ", cred_path, " (", credential.status().message(),
                     "): pass --credential DEVICE.cred, or ", kReissue));
  }
  Enrollment e;
  e.coordinator = coordinator;
  e.server_name = server_name;
  e.credential = *std::move(credential);
  TACIT_ASSIGN_OR_RETURN(e.ca_pem, ReadFileToString(ca_path));
  TACIT_ASSIGN_OR_RETURN(e.cert_pem, ReadFileToString(cert_path));
  TACIT_ASSIGN_OR_RETURN(e.key_pem, ReadFileToString(key_path));
  // On any refusal below the key read into `e` is wiped.
  auto refuse = [&e](absl::Status why) {
    OPENSSL_cleanse(e.key_pem.data(), e.key_pem.size());
    return why;
  };
  if (!ParseCertificate(e.ca_pem)) {
    return refuse(
        absl::InvalidArgumentError(absl::StrCat(ca_path, " is not a PEM CA certificate")));
  }
  auto cert = ParseCertificate(e.cert_pem);
  if (!cert) {
    return refuse(absl::InvalidArgumentError(absl::StrCat(cert_path, " is not a PEM certificate")));
  }
  std::unique_ptr<BIO, BioFree> key_bio(
      BIO_new_mem_buf(e.key_pem.data(), static_cast<int>(e.key_pem.size())));
  EvpPkeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)
                         : nullptr);
  if (!key || X509_check_private_key(cert.get(), key.get()) != 1) {
    return refuse(absl::InvalidArgumentError(
        absl::StrCat(key_path, " is not the private key of ", cert_path,
                     ": use the .key and .crt that `tacit-coordinator pki issue` made together")));
  }
  if (absl::Status usable = CheckCredential(cred_path, e.credential, e.key_pem, e.ca_pem);
      !usable.ok()) {
    return refuse(usable);
  }
  absl::StatusOr<std::string> device_id = CertificateCommonName(e.cert_pem);
  if (!device_id.ok()) return refuse(device_id.status());
  e.device_id = *std::move(device_id);
  return e;
}

absl::Status SaveEnrollment(const std::string& dir, const Enrollment& e) {
  const std::string fleet = FleetDir(dir);
  const std::string staged = absl::StrCat(dir, "/", kStagedFleetDir);
  std::vector<std::string> shredded;
  // A staged folder left by an interrupted enroll holds a key: wiped first.
  TACIT_RETURN_IF_ERROR(ShredPath(staged, &shredded));
  TACIT_RETURN_IF_ERROR(MakeDirectories(staged, 0700));
  nlohmann::json fleet_json = {
      {"coordinator", e.coordinator}, {"device_id", e.device_id}, {"server_name", e.server_name}};
  if (!e.server_sha256.empty()) fleet_json["server_sha256"] = e.server_sha256;
  absl::Status wrote = WriteFileAtomically(staged + "/secagg.cred", e.credential, 0644);
  if (wrote.ok()) wrote = WriteFileAtomically(staged + "/ca.crt", e.ca_pem, 0644);
  if (wrote.ok()) wrote = WriteFileAtomically(staged + "/device.crt", e.cert_pem, 0644);
  if (wrote.ok()) wrote = WriteFileAtomically(staged + "/device.key", e.key_pem, 0600);
  if (wrote.ok()) {
    wrote = WriteFileAtomically(staged + "/fleet.json", fleet_json.dump(2) + "\n", 0644);
  }
  if (!wrote.ok()) {
    (void)ShredPath(staged, &shredded);
    return wrote;
  }
  // One step from the old enrollment (or none) to the new: the folders are
  // exchanged atomically, so a crash leaves one whole enrollment.
  const bool replacing = std::filesystem::exists(fleet);
  const int moved =
      replacing ? ::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, fleet.c_str(), RENAME_EXCHANGE)
                : ::rename(staged.c_str(), fleet.c_str());
  if (moved != 0) {
    const int error = errno;
    (void)ShredPath(staged, &shredded);
    return absl::InternalError(absl::StrCat("cannot move the new enrollment into ", fleet, ": ",
                                            std::strerror(error), "; nothing was changed"));
  }
  if (int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  // The previous enrollment, now in the staged folder: its key is wiped.
  return ShredPath(staged, &shredded);
}

absl::Status Enroll(const std::string& dir, const std::string& coordinator,
                    const std::string& ca_path, const std::string& cert_path,
                    const std::string& key_path, const std::string& server_name,
                    const std::string& credential_path) {
  TACIT_ASSIGN_OR_RETURN(Enrollment e, ReadEnrollmentFiles(coordinator, ca_path, cert_path,
                                                           key_path, server_name, credential_path));
  absl::Status saved = SaveEnrollment(dir, e);
  OPENSSL_cleanse(e.key_pem.data(), e.key_pem.size());
  return saved;
}

absl::StatusOr<Enrollment> LoadEnrollment(const std::string& dir) {
  auto fleet_text = ReadFileToString(FleetDir(dir) + "/fleet.json");
  if (!fleet_text.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this device is not enrolled in a fleet (", FleetDir(dir),
        "/fleet.json missing): run `tacit-client enroll --coordinator HOST:PORT --ca ca.crt "
        "--cert DEVICE.crt --key DEVICE.key` (DEVICE.cred next to DEVICE.crt)"));
  }
  absl::StatusOr<nlohmann::json> parsed = ParseJson(*fleet_text, "fleet.json");
  const nlohmann::json fleet = parsed.ok() ? *std::move(parsed) : nlohmann::json();
  if (!fleet.is_object()) {
    return absl::DataLossError(
        absl::StrCat(FleetDir(dir), "/fleet.json is not valid JSON; enroll again"));
  }
  Enrollment e;
  e.coordinator = StringOr(fleet, "coordinator", "");
  e.device_id = StringOr(fleet, "device_id", "");
  e.server_name = StringOr(fleet, "server_name", "");
  e.server_sha256 = StringOr(fleet, "server_sha256", "");
  TACIT_ASSIGN_OR_RETURN(e.ca_pem, ReadFileToString(FleetDir(dir) + "/ca.crt"));
  TACIT_ASSIGN_OR_RETURN(e.cert_pem, ReadFileToString(FleetDir(dir) + "/device.crt"));
  TACIT_ASSIGN_OR_RETURN(e.key_pem, ReadFileToString(FleetDir(dir) + "/device.key"));
  // Absent in enrollments made before credentials: loaded empty, and the
  // round runner says what to do (LoadIdentity in round_runner.cc).
  if (std::filesystem::exists(CredentialPath(dir))) {
    TACIT_ASSIGN_OR_RETURN(e.credential, ReadFileToString(CredentialPath(dir)));
  }
  return e;
}

}  // namespace tacit::runtime
