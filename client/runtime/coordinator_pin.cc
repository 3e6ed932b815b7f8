#include "client/runtime/coordinator_pin.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/openssl_ptr.h"
#include "common/status_macros.h"
#include "secure_agg/signatures.h"

namespace tacit::runtime {
namespace {

using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslDeleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslDeleter<SSL, SSL_free>>;

X509Ptr ParsePem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

// "host:port", "[v6]:port" -> host, port.
absl::Status SplitAddress(const std::string& address, std::string* host, std::string* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("coordinator address '", address, "' is not HOST:PORT"));
  }
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

class Socket {
 public:
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  // Connects to the first address of `host`:`port` that accepts within the timeout.
  absl::Status Connect(const std::string& host, const std::string& port, double timeout_seconds) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
      return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
    }
    std::string last = "no address";
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      int fd =
          ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = ::poll(&p, 1, static_cast<int>(timeout_seconds * 1000)) == 1 ? 0 : -1;
        int error = rc == 0 ? 0 : ETIMEDOUT;
        socklen_t len = sizeof(error);
        if (rc == 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
        errno = error;
        rc = error == 0 ? 0 : -1;
      }
      if (rc == 0) {
        fd_ = fd;
        break;
      }
      last = std::strerror(errno);
      ::close(fd);
    }
    ::freeaddrinfo(found);
    if (fd_ < 0) return absl::UnavailableError(last);
    // The handshake blocks, bounded by the same timeout per read and write.
    const int flags = 0;
    (void)::fcntl(fd_, F_SETFL, flags);
    timeval tv{
        static_cast<time_t>(timeout_seconds),
        static_cast<suseconds_t>((timeout_seconds - static_cast<time_t>(timeout_seconds)) * 1e6)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return absl::OkStatus();
  }

 private:
  int fd_ = -1;
};

// The fleet CA, the device's certificate and key, TLS 1.2+, h2 offered (a
// gRPC server refuses a TLS client without it).
absl::StatusOr<SslCtxPtr> ClientContext(const Enrollment& e) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return absl::InternalError(absl::StrCat("SSL_CTX_new: ", secagg::TakeOpenSslError()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  X509Ptr ca = ParsePem(e.ca_pem);
  X509Ptr cert = ParsePem(e.cert_pem);
  BioPtr key_bio(BIO_new_mem_buf(e.key_pem.data(), static_cast<int>(e.key_pem.size())));
  EvpPkeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)
                         : nullptr);
  if (!ca || !cert || !key) {
    return absl::FailedPreconditionError(
        "the enrollment's CA, certificate or key does not parse; enroll again");
  }
  if (X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca.get()) != 1 ||
      SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
    return absl::InternalError(
        absl::StrCat("loading the device's TLS identity: ", secagg::TakeOpenSslError()));
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  if (SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof(kAlpn)) != 0) {
    return absl::InternalError("SSL_CTX_set_alpn_protos failed");
  }
  return ctx;
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

absl::StatusOr<std::string> FetchCoordinatorCertificate(const Enrollment& e,
                                                        double timeout_seconds) {
  std::string host, port;
  TACIT_RETURN_IF_ERROR(SplitAddress(e.coordinator, &host, &port));
  Socket socket;
  if (absl::Status connected = socket.Connect(host, port, timeout_seconds); !connected.ok()) {
    return absl::UnavailableError(absl::StrCat("no coordinator answers at ", e.coordinator, " (",
                                               connected.message(),
                                               "); check the address and that it is serving"));
  }
  TACIT_ASSIGN_OR_RETURN(SslCtxPtr ctx, ClientContext(e));
  SslPtr ssl(SSL_new(ctx.get()));
  if (!ssl) return absl::InternalError(absl::StrCat("SSL_new: ", secagg::TakeOpenSslError()));
  const std::string name = e.server_name.empty() ? host : e.server_name;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  // An IP address is checked against the certificate's IP names, a host name
  // against its DNS names.
  if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) {
    if (X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0) != 1) {
      return absl::InternalError("cannot set the name to verify");
    }
    SSL_set_tlsext_host_name(ssl.get(), name.c_str());
  }
  SSL_set_fd(ssl.get(), socket.fd());
  if (SSL_connect(ssl.get()) != 1) {
    const long verify = SSL_get_verify_result(ssl.get());
    const std::string why =
        verify != X509_V_OK ? X509_verify_cert_error_string(verify) : secagg::TakeOpenSslError();
    return absl::PermissionDeniedError(absl::StrCat(
        "the TLS handshake with ", e.coordinator, " failed (", why,
        "): the coordinator's certificate must come from the fleet CA and name the address "
        "dialled (",
        name, "; `tacit-coordinator pki init --server-name`), and must accept this device"));
  }
  X509Ptr presented(SSL_get1_peer_certificate(ssl.get()));
  SSL_shutdown(ssl.get());
  if (!presented) return absl::PermissionDeniedError("the coordinator presented no certificate");
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), presented.get()) != 1) {
    return absl::InternalError(absl::StrCat("PEM_write_bio_X509: ", secagg::TakeOpenSslError()));
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
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
      ", not the one pinned at "
      "enrollment (",
      want,
      "); nothing more is sent to it. If the operator replaced the coordinator's certificate, "
      "confirm the new fingerprint with them and run `tacit-client enroll` again"));
}

}  // namespace tacit::runtime
