#include "coordinator/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <filesystem>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_io.h"
#include "common/openssl_ptr.h"
#include "common/secure_random.h"
#include "common/status_macros.h"
#include "coordinator/pki_revocation.h"
#include "secure_agg/credential.h"

namespace tacit::coordinator {
namespace {

constexpr char kDeviceUriPrefix[] = "tacit://device/";

// The OpenSSL error queue as text, emptied.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL detail" : out;
}

absl::Status OpenSslError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, " failed: ", OpenSslErrors()));
}

absl::StatusOr<EvpPkeyPtr> NewKey() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpenSslError("EC P-256 key generation");
  return key;
}

absl::StatusOr<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("writing a private key as PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(len));
  // Best effort: the BIO's buffer held the key; wipe it before freeing.
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return pem;
}

absl::StatusOr<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError("writing a certificate as PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<X509Ptr> ParseCert(const std::string& pem, const char* what) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a PEM X.509 certificate"));
  }
  return cert;
}

absl::StatusOr<EvpPkeyPtr> ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CA key is not a PEM private key");
  }
  return key;
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (ext == nullptr) return OpenSslError(absl::StrCat("building extension ", OBJ_nid2sn(nid)));
  if (X509_add_ext(cert, ext.get(), -1) != 1) return OpenSslError("adding a certificate extension");
  return absl::OkStatus();
}

struct CertSpec {
  std::string common_name;
  int days = 365;
  bool is_ca = false;
  std::string key_usage;
  std::string extended_key_usage;  // empty for the CA
  std::string subject_alt_name;    // empty: none
};

// Makes and signs a certificate for `key`. A null `issuer` self-signs.
absl::StatusOr<X509Ptr> MakeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer,
                                 EVP_PKEY* issuer_key) {
  if (spec.days < 1 || spec.days > 36500) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate validity must be 1..36500 days, got ", spec.days));
  }
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return OpenSslError("X509_new");
  // 127-bit random serial: unique without a serial database, always positive.
  uint8_t serial[16];
  TACIT_RETURN_IF_ERROR(SecureRandomBytes(absl::MakeSpan(serial)));
  serial[0] &= 0x7f;
  BignumPtr bn(BN_bin2bn(serial, sizeof(serial), nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) {
    return OpenSslError("setting the serial number");
  }
  // Backdated 5 minutes to tolerate clock skew between coordinator and laptops.
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), int64_t{spec.days} * 86400)) {
    return OpenSslError("setting the validity period");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("tacit fleet"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                 -1, -1, 0) != 1) {
    return OpenSslError("setting the subject name");
  }
  X509* signer = issuer ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("setting issuer and public key");
  }
  TACIT_RETURN_IF_ERROR(
      AddExtension(cert.get(), signer, NID_basic_constraints,
                   spec.is_ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE"));
  TACIT_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_key_usage, spec.key_usage));
  TACIT_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  TACIT_RETURN_IF_ERROR(
      AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  if (!spec.extended_key_usage.empty()) {
    TACIT_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_ext_key_usage, spec.extended_key_usage));
  }
  if (!spec.subject_alt_name.empty()) {
    TACIT_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_subject_alt_name, spec.subject_alt_name));
  }
  if (X509_sign(cert.get(), issuer ? issuer_key : key, EVP_sha256()) <= 0) {
    return OpenSslError("signing the certificate");
  }
  return cert;
}

absl::StatusOr<KeyAndCert> IssueSigned(const KeyAndCert& ca, const CertSpec& spec) {
  TACIT_ASSIGN_OR_RETURN(X509Ptr ca_cert, ParseCert(ca.cert_pem, "CA certificate"));
  TACIT_ASSIGN_OR_RETURN(EvpPkeyPtr ca_key, ParseKey(ca.key_pem));
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the CA key does not belong to the CA certificate");
  }
  TACIT_ASSIGN_OR_RETURN(EvpPkeyPtr key, NewKey());
  TACIT_ASSIGN_OR_RETURN(X509Ptr cert, MakeCert(spec, key.get(), ca_cert.get(), ca_key.get()));
  KeyAndCert out;
  TACIT_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(key.get()));
  TACIT_ASSIGN_OR_RETURN(out.cert_pem, CertToPem(cert.get()));
  return out;
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

bool IsDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
  for (char c : name) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*')) return false;
  }
  return true;
}

// The subject CN of `cert`, or "" when absent.
std::string CommonName(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

// Device ids named by tacit://device/<id> URIs in the subjectAltName.
std::vector<std::string> DeviceUris(X509* cert) {
  std::vector<std::string> ids;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return ids;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = n->d.uniformResourceIdentifier;
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<size_t>(ASN1_STRING_length(uri)));
    if (absl::StartsWith(text, kDeviceUriPrefix)) {
      ids.push_back(text.substr(sizeof(kDeviceUriPrefix) - 1));
    }
  }
  return ids;
}

absl::Status WriteKeyPair(const std::string& base, const KeyAndCert& kc) {
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(base + ".key", kc.key_pem, 0600));
  return WriteFileAtomically(base + ".crt", kc.cert_pem, 0644);
}

absl::StatusOr<KeyAndCert> ReadKeyPair(const std::string& base) {
  KeyAndCert kc;
  TACIT_ASSIGN_OR_RETURN(kc.key_pem, ReadFileToString(base + ".key"));
  TACIT_ASSIGN_OR_RETURN(kc.cert_pem, ReadFileToString(base + ".crt"));
  return kc;
}

}  // namespace

absl::Status ValidateDeviceId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 64 && id.front() != '.' && id.front() != '-';
  for (char c : id) {
    ok = ok && (isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "device id '", id,
        "' is invalid: use 1-64 characters of letters, digits, '.', '_' and '-', not starting "
        "with '.' or '-'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyAndCert> CreateFleetCa(const std::string& common_name, int days) {
  TACIT_ASSIGN_OR_RETURN(EvpPkeyPtr key, NewKey());
  CertSpec spec{common_name, days, /*is_ca=*/true, "critical,keyCertSign,cRLSign", "", ""};
  TACIT_ASSIGN_OR_RETURN(X509Ptr cert, MakeCert(spec, key.get(), nullptr, nullptr));
  KeyAndCert out;
  TACIT_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(key.get()));
  TACIT_ASSIGN_OR_RETURN(out.cert_pem, CertToPem(cert.get()));
  return out;
}

absl::StatusOr<KeyAndCert> IssueServerCertificate(const KeyAndCert& ca,
                                                  const std::vector<std::string>& names, int days) {
  if (names.empty()) {
    return absl::InvalidArgumentError(
        "the server certificate needs at least one DNS name or IP address (e.g. --server-name "
        "coordinator.example.com --server-name 127.0.0.1)");
  }
  std::vector<std::string> alt;
  for (const std::string& n : names) {
    if (IsIpAddress(n)) {
      alt.push_back("IP:" + n);
    } else if (IsDnsName(n)) {
      alt.push_back("DNS:" + n);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("server name '", n, "' is neither a DNS name nor an IP address"));
    }
  }
  CertSpec spec{
      names[0], days, false, "critical,digitalSignature", "serverAuth", absl::StrJoin(alt, ",")};
  return IssueSigned(ca, spec);
}

absl::StatusOr<KeyAndCert> IssueDeviceCertificate(const KeyAndCert& ca,
                                                  const std::string& device_id, int days) {
  TACIT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  CertSpec spec{device_id,    days,
                false,        "critical,digitalSignature",
                "clientAuth", absl::StrCat("URI:", kDeviceUriPrefix, device_id)};
  return IssueSigned(ca, spec);
}

absl::StatusOr<std::string> IssueSecAggCredential(const KeyAndCert& ca,
                                                  const std::string& device_cert_pem) {
  TACIT_ASSIGN_OR_RETURN(X509Ptr ca_cert, ParseCert(ca.cert_pem, "CA certificate"));
  TACIT_ASSIGN_OR_RETURN(EvpPkeyPtr ca_key, ParseKey(ca.key_pem));
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the CA key does not belong to the CA certificate");
  }
  TACIT_ASSIGN_OR_RETURN(X509Ptr device, ParseCert(device_cert_pem, "device certificate"));
  // The credential lives as long as the certificate: a replaced device's
  // credential expires with the certificate it came with.
  struct tm not_after {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(device.get()), &not_after) != 1) {
    return OpenSslError("reading the device certificate's expiry");
  }
  const std::time_t expiry = timegm(&not_after);
  if (expiry <= 0) return absl::InvalidArgumentError("the device certificate expires before 1970");
  absl::StatusOr<secagg::Bytes> credential = secagg::IssueCredential(
      ca_key.get(), X509_get0_pubkey(device.get()), static_cast<uint64_t>(expiry));
  if (!credential.ok()) return credential.status();
  return std::string(credential->begin(), credential->end());
}

absl::StatusOr<std::string> VerifyDeviceCertificate(const std::string& peer_cert_pem,
                                                    const std::string& ca_cert_pem,
                                                    std::optional<std::time_t> at) {
  TACIT_ASSIGN_OR_RETURN(X509Ptr ca, ParseCert(ca_cert_pem, "fleet CA certificate"));
  absl::StatusOr<X509Ptr> peer = ParseCert(peer_cert_pem, "peer certificate");
  if (!peer.ok()) return absl::UnauthenticatedError(peer.status().message());
  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), peer->get(), nullptr) != 1) {
    return OpenSslError("setting up certificate verification");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (at.has_value()) X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), *at);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::UnauthenticatedError(
        absl::StrCat("device certificate refused: ", X509_verify_cert_error_string(err),
                     " (only certificates issued by this fleet's CA with `tacit-coordinator "
                     "pki issue` are accepted)"));
  }
  std::string cn = CommonName(peer->get());
  std::vector<std::string> uris = DeviceUris(peer->get());
  if (uris.size() != 1 || uris[0] != cn || !ValidateDeviceId(cn).ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("device certificate refused: it must name one device id in both CN and a "
                     "tacit://device/ URI (CN '",
                     cn, "', ", uris.size(), " device URIs)"));
  }
  return cn;
}

absl::Status InitPkiFolder(const std::string& dir, const std::vector<std::string>& server_names,
                           const PkiValidity& validity) {
  if (std::filesystem::exists(dir + "/ca.key")) {
    return absl::AlreadyExistsError(
        absl::StrCat(dir,
                     "/ca.key exists: this folder already holds a fleet CA; refusing to replace it "
                     "(every device certificate would stop working). Use another folder."));
  }
  TACIT_RETURN_IF_ERROR(MakeDirectories(dir + "/devices", 0700));
  TACIT_ASSIGN_OR_RETURN(KeyAndCert ca, CreateFleetCa("tacit fleet CA", validity.ca_days));
  TACIT_ASSIGN_OR_RETURN(KeyAndCert server,
                         IssueServerCertificate(ca, server_names, validity.server_days));
  TACIT_RETURN_IF_ERROR(WriteKeyPair(dir + "/server", server));
  // The CA last: a folder with ca.key is a complete one.
  TACIT_RETURN_IF_ERROR(WriteKeyPair(dir + "/ca", ca));
  OPENSSL_cleanse(ca.key_pem.data(), ca.key_pem.size());
  OPENSSL_cleanse(server.key_pem.data(), server.key_pem.size());
  return absl::OkStatus();
}

absl::StatusOr<std::string> IssueDeviceInFolder(const std::string& dir,
                                                const std::string& device_id, int days,
                                                bool replace) {
  TACIT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  std::string base = absl::StrCat(dir, "/devices/", device_id);
  if (!replace && std::filesystem::exists(base + ".crt")) {
    return absl::AlreadyExistsError(absl::StrCat(
        base, ".crt exists; pass --replace to issue a new certificate for this device"));
  }
  absl::StatusOr<KeyAndCert> ca = ReadKeyPair(dir + "/ca");
  if (!ca.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the fleet CA in ", dir, " (", ca.status().message(),
                     "); run `tacit-coordinator pki init ", dir, "` first"));
  }
  TACIT_RETURN_IF_ERROR(MakeDirectories(dir + "/devices", 0700));
  absl::StatusOr<KeyAndCert> device = IssueDeviceCertificate(*ca, device_id, days);
  absl::StatusOr<std::string> credential =
      device.ok() ? IssueSecAggCredential(*ca, device->cert_pem) : device.status();
  OPENSSL_cleanse(ca->key_pem.data(), ca->key_pem.size());
  if (!credential.ok()) return credential.status();
  // A replaced certificate must stop working, not only stop being on disk:
  // its serial goes on the denylist before the new one exists (a crash in
  // between leaves the device with no valid certificate, never with two).
  if (replace && std::filesystem::exists(base + ".crt")) {
    absl::StatusOr<std::vector<std::string>> revoked = RevokeDeviceInFolder(dir, device_id);
    if (!revoked.ok()) return revoked.status();
  }
  TACIT_RETURN_IF_ERROR(RecordIssued(dir, device_id, device->cert_pem));
  // The credential after the key pair: an interrupted --replace leaves an old
  // credential that names the old key, which enrolment refuses by name.
  absl::Status wrote = WriteKeyPair(base, *device);
  if (wrote.ok()) wrote = WriteFileAtomically(base + ".cred", *credential, 0644);
  OPENSSL_cleanse(device->key_pem.data(), device->key_pem.size());
  TACIT_RETURN_IF_ERROR(wrote);
  return base + ".crt";
}

}  // namespace tacit::coordinator
