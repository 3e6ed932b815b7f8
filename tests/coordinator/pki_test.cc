#include "coordinator/pki.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <future>

#include "common/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "secure_agg/identity.h"

namespace tacit::coordinator {
namespace {

using ::testing::HasSubstr;

X509* ParsePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

class PkiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new KeyAndCert(*CreateFleetCa("test fleet CA", 30));
    other_ca_ = new KeyAndCert(*CreateFleetCa("someone else's CA", 30));
  }
  static KeyAndCert* ca_;
  static KeyAndCert* other_ca_;
};
KeyAndCert* PkiTest::ca_ = nullptr;
KeyAndCert* PkiTest::other_ca_ = nullptr;

TEST_F(PkiTest, DeviceCertificateVerifiesAndNamesTheDevice) {
  auto device = IssueDeviceCertificate(*ca_, "laptop-0042", 10);
  ASSERT_TRUE(device.ok()) << device.status();
  auto id = VerifyDeviceCertificate(device->cert_pem, ca_->cert_pem);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "laptop-0042");
}

TEST_F(PkiTest, RefusesExpiredNotYetValidAndForeignCertificates) {
  auto device = IssueDeviceCertificate(*ca_, "d1", 10);
  ASSERT_TRUE(device.ok());
  std::time_t now = std::time(nullptr);
  auto expired = VerifyDeviceCertificate(device->cert_pem, ca_->cert_pem, now + 11 * 86400);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired"));
  auto early = VerifyDeviceCertificate(device->cert_pem, ca_->cert_pem, now - 3600);
  EXPECT_THAT(early.status().message(), HasSubstr("not yet valid"));

  auto foreign = IssueDeviceCertificate(*other_ca_, "d1", 10);
  ASSERT_TRUE(foreign.ok());
  auto refused = VerifyDeviceCertificate(foreign->cert_pem, ca_->cert_pem);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(refused.status().message(), HasSubstr("refused"));

  // A server certificate of the same CA is not a device identity.
  auto server = IssueServerCertificate(*ca_, {"localhost"}, 10);
  ASSERT_TRUE(server.ok());
  EXPECT_FALSE(VerifyDeviceCertificate(server->cert_pem, ca_->cert_pem).ok());
  // The CA itself is not a device either.
  EXPECT_FALSE(VerifyDeviceCertificate(ca_->cert_pem, ca_->cert_pem).ok());
  EXPECT_EQ(VerifyDeviceCertificate("not a certificate", ca_->cert_pem).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(PkiTest, ServerCertificateCoversDnsNamesAndIps) {
  auto server = IssueServerCertificate(*ca_, {"coordinator.example.com", "127.0.0.1", "::1"}, 10);
  ASSERT_TRUE(server.ok()) << server.status();
  X509* cert = ParsePem(server->cert_pem);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert, "coordinator.example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "::1", 0), 1);
  EXPECT_NE(X509_check_host(cert, "evil.example.com", 0, 0, nullptr), 1);
  X509_free(cert);
  EXPECT_FALSE(IssueServerCertificate(*ca_, {}, 10).ok());
  EXPECT_FALSE(IssueServerCertificate(*ca_, {"bad name!"}, 10).ok());
  EXPECT_FALSE(IssueServerCertificate(*ca_, {"x"}, 0).ok());
}

TEST_F(PkiTest, DeviceIdsAreValidated) {
  for (const char* bad : {"", "-x", ".x", "a b", "a/b", "x\n"}) {
    EXPECT_FALSE(ValidateDeviceId(bad).ok()) << bad;
    EXPECT_FALSE(IssueDeviceCertificate(*ca_, bad, 1).ok()) << bad;
  }
  EXPECT_FALSE(ValidateDeviceId(std::string(65, 'a')).ok());
  EXPECT_TRUE(ValidateDeviceId("Laptop_07.eng-berlin").ok());
}

// Runs one TLS 1.3 handshake over a socket pair: the server requires a
// client certificate signed by `server_ca`; returns the server's view.
struct HandshakeResult {
  bool server_ok = false;
  std::string peer_pem;
};

HandshakeResult MutualTls(const KeyAndCert& server, const KeyAndCert& client,
                          const std::string& server_ca, const std::string& client_ca) {
  auto load = [](SSL_CTX* ctx, const KeyAndCert& kc, const std::string& ca) {
    X509* cert = ParsePem(kc.cert_pem);
    BIO* kb = BIO_new_mem_buf(kc.key_pem.data(), static_cast<int>(kc.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    X509* ca_cert = ParsePem(ca);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca_cert);
    X509_free(ca_cert);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(kb);
  };
  // Closing one end while the other still writes must fail the write, not
  // kill the test with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  SSL_CTX* sctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  load(sctx, server, server_ca);
  load(cctx, client, client_ca);
  SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, nullptr);
  SSL* s = SSL_new(sctx);
  SSL* c = SSL_new(cctx);
  SSL_set_fd(s, fds[0]);
  SSL_set_fd(c, fds[1]);
  SSL_set1_host(c, "localhost");
  auto client_side = std::async(std::launch::async, [&] {
    bool ok = SSL_connect(c) == 1;
    // TLS 1.3: the server's verdict on our certificate arrives with the first read.
    char byte;
    ok = ok && SSL_read(c, &byte, 1) == 1;
    SSL_shutdown(c);
    return ok;
  });
  HandshakeResult result;
  result.server_ok = SSL_accept(s) == 1;
  if (result.server_ok) {
    SSL_write(s, "x", 1);
    X509* peer = SSL_get1_peer_certificate(s);
    if (peer) {
      BIO* out = BIO_new(BIO_s_mem());
      PEM_write_bio_X509(out, peer);
      char* data = nullptr;
      long len = BIO_get_mem_data(out, &data);
      result.peer_pem.assign(data, static_cast<size_t>(len));
      BIO_free(out);
      X509_free(peer);
    }
  }
  ::shutdown(fds[0], SHUT_RDWR);
  client_side.get();
  SSL_free(s);
  SSL_free(c);
  SSL_CTX_free(sctx);
  SSL_CTX_free(cctx);
  ::close(fds[0]);
  ::close(fds[1]);
  ERR_clear_error();
  return result;
}

TEST_F(PkiTest, CertificatesWorkForMutualTls) {
  auto server = IssueServerCertificate(*ca_, {"localhost"}, 10);
  auto device = IssueDeviceCertificate(*ca_, "laptop-7", 10);
  auto intruder = IssueDeviceCertificate(*other_ca_, "laptop-7", 10);
  ASSERT_TRUE(server.ok() && device.ok() && intruder.ok());

  HandshakeResult good = MutualTls(*server, *device, ca_->cert_pem, ca_->cert_pem);
  ASSERT_TRUE(good.server_ok);
  auto id = VerifyDeviceCertificate(good.peer_pem, ca_->cert_pem);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "laptop-7");

  HandshakeResult bad = MutualTls(*server, *intruder, ca_->cert_pem, ca_->cert_pem);
  EXPECT_FALSE(bad.server_ok);
}

TEST(PkiFolderTest, InitAndIssueWriteProtectedFilesAndRefuseOverwrites) {
  std::string dir = ::testing::TempDir() + "/pki_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(InitPkiFolder(dir, {"localhost", "127.0.0.1"}).ok());
  struct stat st;
  ASSERT_EQ(::stat((dir + "/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat((dir + "/server.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = InitPkiFolder(dir, {"localhost"});
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);

  auto path = IssueDeviceInFolder(dir, "dev-1", 30);
  ASSERT_TRUE(path.ok()) << path.status();
  ASSERT_EQ(::stat((dir + "/devices/dev-1.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto id = VerifyDeviceCertificate(*ReadFileToString(*path), *ReadFileToString(dir + "/ca.crt"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "dev-1");
  EXPECT_EQ(IssueDeviceInFolder(dir, "dev-1", 30).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(IssueDeviceInFolder(dir, "dev-1", 30, /*replace=*/true).ok());
  EXPECT_EQ(IssueDeviceInFolder(dir + "/nope", "dev-1", 30).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// The credential `pki issue` writes names no device (neighbours learn a key,
// not who holds it), is for the new key after --replace, and lives as long
// as the certificate.
TEST(PkiFolderTest, IssueWritesASecAggCredentialThatNamesNoDevice) {
  std::string dir = ::testing::TempDir() + "/pki_cred_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(InitPkiFolder(dir, {"localhost"}).ok());
  auto verifier = secagg::CredentialVerifier::FromPem(*ReadFileToString(dir + "/ca.crt"));
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  std::string old_credential;
  for (bool replace : {false, true}) {
    ASSERT_TRUE(IssueDeviceInFolder(dir, "alice-laptop", 30, replace).ok());
    auto credential = ReadFileToString(dir + "/devices/alice-laptop.cred");
    ASSERT_TRUE(credential.ok()) << credential.status();
    EXPECT_EQ(credential->size(), secagg::kCredentialBytes);
    EXPECT_EQ(credential->find("alice-laptop"), std::string::npos);
    EXPECT_EQ(credential->find("alice"), std::string::npos);
    const secagg::ByteSpan bytes(reinterpret_cast<const uint8_t*>(credential->data()),
                                 credential->size());
    EXPECT_TRUE((*verifier)->CheckCredential(bytes).ok());
    const std::string key = *ReadFileToString(dir + "/devices/alice-laptop.key");
    EXPECT_TRUE(secagg::CredentialSigner::Create(key, bytes).ok());
    if (replace) {  // the replaced credential names the replaced key
      EXPECT_NE(*credential, old_credential);
      const secagg::ByteSpan old(reinterpret_cast<const uint8_t*>(old_credential.data()),
                                 old_credential.size());
      EXPECT_FALSE(secagg::CredentialSigner::Create(key, old).ok());
    }
    old_credential = *credential;
    // Expiry: the certificate's notAfter.
    X509* cert = ParsePem(*ReadFileToString(dir + "/devices/alice-laptop.crt"));
    ASSERT_NE(cert, nullptr);
    struct tm not_after {};
    ASSERT_EQ(ASN1_TIME_to_tm(X509_get0_notAfter(cert), &not_after), 1);
    X509_free(cert);
    auto parsed = secagg::ParseCredential(bytes);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->not_after, static_cast<uint64_t>(timegm(&not_after)));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tacit::coordinator
