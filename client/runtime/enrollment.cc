#include "client/runtime/enrollment.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
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

absl::Status Enroll(const std::string& dir, const std::string& coordinator,
                    const std::string& ca_path, const std::string& cert_path,
                    const std::string& key_path, const std::string& server_name,
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
  TACIT_ASSIGN_OR_RETURN(std::string ca_pem, ReadFileToString(ca_path));
  TACIT_ASSIGN_OR_RETURN(std::string cert_pem, ReadFileToString(cert_path));
  TACIT_ASSIGN_OR_RETURN(std::string key_pem, ReadFileToString(key_path));
  if (!ParseCertificate(ca_pem)) {
    return absl::InvalidArgumentError(absl::StrCat(ca_path, " is not a PEM CA certificate"));
  }
  auto cert = ParseCertificate(cert_pem);
  if (!cert) {
    return absl::InvalidArgumentError(absl::StrCat(cert_path, " is not a PEM certificate"));
  }
  std::unique_ptr<BIO, BioFree> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EvpPkeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)
                         : nullptr);
  if (!key || X509_check_private_key(cert.get(), key.get()) != 1) {
    OPENSSL_cleanse(key_pem.data(), key_pem.size());
    return absl::InvalidArgumentError(
        absl::StrCat(key_path, " is not the private key of ", cert_path,
                     ": use the .key and .crt that `tacit-coordinator pki issue` made together"));
  }
  absl::Status credential_ok = CheckCredential(cred_path, *credential, key_pem, ca_pem);
  if (!credential_ok.ok()) {
    OPENSSL_cleanse(key_pem.data(), key_pem.size());
    return credential_ok;
  }
  TACIT_ASSIGN_OR_RETURN(std::string device_id, CertificateCommonName(cert_pem));
  TACIT_RETURN_IF_ERROR(MakeDirectories(FleetDir(dir), 0700));
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(CredentialPath(dir), *credential, 0644));
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(FleetDir(dir) + "/ca.crt", ca_pem, 0644));
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(FleetDir(dir) + "/device.crt", cert_pem, 0644));
  absl::Status wrote_key = WriteFileAtomically(FleetDir(dir) + "/device.key", key_pem, 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  TACIT_RETURN_IF_ERROR(wrote_key);
  nlohmann::json fleet = {
      {"coordinator", coordinator}, {"device_id", device_id}, {"server_name", server_name}};
  return WriteFileAtomically(FleetDir(dir) + "/fleet.json", fleet.dump(2) + "\n", 0644);
}

absl::Status PinCoordinator(const std::string& dir, const std::string& fingerprint) {
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
  std::string pinned;
  for (size_t i = 0; i < hex.size(); i += 2) {
    absl::StrAppend(&pinned, i == 0 ? "" : ":", hex.substr(i, 2));
  }
  TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(FleetDir(dir) + "/fleet.json"));
  TACIT_ASSIGN_OR_RETURN(nlohmann::json fleet, ParseJson(text, "fleet.json"));
  fleet["server_sha256"] = pinned;
  return WriteFileAtomically(FleetDir(dir) + "/fleet.json", fleet.dump(2) + "\n", 0644);
}

absl::Status Unenroll(const std::string& dir) {
  std::error_code error;
  std::filesystem::remove(FleetDir(dir) + "/fleet.json", error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", FleetDir(dir), "/fleet.json: ", error.message()));
  }
  return absl::OkStatus();
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
