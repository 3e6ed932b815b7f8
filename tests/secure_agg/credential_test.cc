// The pseudonymous SecAgg credential (secure_agg/credential.h) and its signer
// and verifier (secure_agg/identity.h), against the fleet's real CA
// (coordinator/pki). Each refusal below is one a lying coordinator or a
// device that is not in the fleet would try.

#include "secure_agg/credential.h"

#include <openssl/bn.h>
#include <openssl/pem.h>

#include <ctime>
#include <random>

#include "coordinator/pki.h"
#include "gtest/gtest.h"
#include "secure_agg/advertised_keys.h"
#include "secure_agg/client/share_keys_state.h"
#include "secure_agg/identity.h"
#include "secure_agg/protocol.h"
#include "secure_agg/server/advertise_keys_state.h"
#include "tests/secure_agg/server_test_support.h"

namespace tacit::secagg {
namespace {

constexpr char kP256Order[] = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

Bytes RandomMessage(std::mt19937& rng) {
  Bytes m(rng() % 300);
  for (uint8_t& b : m) b = static_cast<uint8_t>(rng());
  return m;
}

EvpPkeyPtr PrivateKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return EvpPkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

Bytes AsVector(const std::string& s) { return Bytes(s.begin(), s.end()); }

struct Device {
  coordinator::KeyAndCert key_and_cert;
  Bytes credential;
  std::shared_ptr<CredentialSigner> signer;
};

struct Fleet {
  coordinator::KeyAndCert ca;
  std::shared_ptr<CredentialVerifier> verifier;
  std::vector<Device> devices;  // laptop-0 .. laptop-7
};

Device IssueDevice(const coordinator::KeyAndCert& ca, const std::string& id) {
  Device d;
  d.key_and_cert = *coordinator::IssueDeviceCertificate(ca, id, 30);
  d.credential = AsVector(*coordinator::IssueSecAggCredential(ca, d.key_and_cert.cert_pem));
  auto signer = CredentialSigner::Create(d.key_and_cert.key_pem, d.credential);
  EXPECT_TRUE(signer.ok()) << signer.status();
  d.signer = std::move(*signer);
  return d;
}

const Fleet& TestFleet() {
  static const Fleet* fleet = [] {
    auto* f = new Fleet;
    f->ca = *coordinator::CreateFleetCa("test fleet", 30);
    f->verifier = std::move(*CredentialVerifier::FromPem(f->ca.cert_pem));
    for (int i = 0; i < 8; ++i)
      f->devices.push_back(IssueDevice(f->ca, "laptop-" + std::to_string(i)));
    return f;
  }();
  return *fleet;
}

// (r, n - s): the other ECDSA signature over the same message, which plain
// ECDSA verification accepts too.
Bytes HighTwin(const Bytes& raw) {
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, kP256Order);
  BignumPtr order(n);
  BignumPtr s(BN_bin2bn(raw.data() + 32, 32, nullptr));
  BN_sub(s.get(), order.get(), s.get());
  Bytes twin = raw;
  BN_bn2binpad(s.get(), twin.data() + 32, 32);
  return twin;
}

TEST(CredentialIdentity, SignaturesVerifyAndAnyChangeFails) {
  const Fleet& fleet = TestFleet();
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const Device& device = fleet.devices[rng() % fleet.devices.size()];
    const Device& other =
        fleet.devices[(&device - fleet.devices.data() + 1) % fleet.devices.size()];
    const Bytes message = RandomMessage(rng);
    auto signature = device.signer->Sign(message);
    ASSERT_TRUE(signature.ok()) << signature.status();
    const Bytes& identity = device.signer->identity();
    ASSERT_EQ(identity.size(), kCredentialBytes);
    ASSERT_EQ(signature->size(), kP256SignatureBytes);
    EXPECT_LE(identity.size() + signature->size(), 180u);  // the byte budget
    EXPECT_TRUE(fleet.verifier->Verify(identity, message, *signature).ok());
    Bytes changed = message;
    changed.push_back(static_cast<uint8_t>(rng()));
    EXPECT_TRUE(absl::IsUnauthenticated(fleet.verifier->Verify(identity, changed, *signature)));
    Bytes flipped = *signature;
    flipped[rng() % flipped.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    EXPECT_TRUE(absl::IsUnauthenticated(fleet.verifier->Verify(identity, message, flipped)));
    // Another device's (valid) credential presented with this signature:
    // the credential's key does not match the key that signed.
    EXPECT_TRUE(absl::IsUnauthenticated(
        fleet.verifier->Verify(other.signer->identity(), message, *signature)));
  }
}

TEST(CredentialIdentity, RefusesACredentialSignedByAnotherCa) {
  const Fleet& fleet = TestFleet();
  auto rogue_ca = coordinator::CreateFleetCa("rogue", 30);
  ASSERT_TRUE(rogue_ca.ok());
  // The rogue CA vouches for a key of its own, and for a real fleet
  // device's key (a credential the fleet CA never signed).
  const Device rogue = IssueDevice(*rogue_ca, "laptop-0");
  const Bytes message = {1, 2, 3};
  auto status = fleet.verifier->Verify(rogue.credential, message, *rogue.signer->Sign(message));
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
  EXPECT_NE(status.message().find("not signed by the fleet CA"), std::string::npos) << status;
  const Device& real = fleet.devices[0];
  auto rogue_for_real = coordinator::IssueSecAggCredential(*rogue_ca, real.key_and_cert.cert_pem);
  ASSERT_TRUE(rogue_for_real.ok());
  status = fleet.verifier->Verify(AsVector(*rogue_for_real), message, *real.signer->Sign(message));
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
}

TEST(CredentialIdentity, RefusesAnExpiredCredential) {
  const Fleet& fleet = TestFleet();
  const Device& device = fleet.devices[1];
  EvpPkeyPtr ca_key = PrivateKey(fleet.ca.key_pem);
  EvpPkeyPtr device_key = PrivateKey(device.key_and_cert.key_pem);
  const uint64_t now = static_cast<uint64_t>(std::time(nullptr));
  const Bytes message = {4, 5, 6};
  const Bytes signature = *device.signer->Sign(message);
  for (uint64_t not_after : {uint64_t{1}, now - 86400, now - 1, now}) {
    auto expired = IssueCredential(ca_key.get(), device_key.get(), not_after);
    ASSERT_TRUE(expired.ok()) << expired.status();
    auto status = fleet.verifier->Verify(*expired, message, signature);
    EXPECT_TRUE(absl::IsUnauthenticated(status)) << not_after << ": " << status;
    EXPECT_NE(status.message().find("expired"), std::string::npos) << status;
  }
  auto valid = IssueCredential(ca_key.get(), device_key.get(), now + 3600);
  ASSERT_TRUE(valid.ok());
  EXPECT_TRUE(fleet.verifier->Verify(*valid, message, signature).ok());
}

TEST(CredentialIdentity, RefusesEveryFlippedBitOfTheCredential) {
  const Fleet& fleet = TestFleet();
  const Device& device = fleet.devices[2];
  const Bytes message = {7, 8, 9};
  const Bytes signature = *device.signer->Sign(message);
  ASSERT_TRUE(fleet.verifier->Verify(device.credential, message, signature).ok());
  for (size_t bit = 0; bit < device.credential.size() * 8; ++bit) {
    Bytes flipped = device.credential;
    flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_TRUE(absl::IsUnauthenticated(fleet.verifier->Verify(flipped, message, signature)))
        << "bit " << bit;
  }
}

TEST(CredentialIdentity, SignerRefusesACredentialForAnotherKey) {
  const Fleet& fleet = TestFleet();
  const Device& a = fleet.devices[3];
  const Device& b = fleet.devices[4];
  auto mismatched = CredentialSigner::Create(b.key_and_cert.key_pem, a.credential);
  EXPECT_TRUE(absl::IsInvalidArgument(mismatched.status())) << mismatched.status();
  EXPECT_NE(mismatched.status().message().find("another key"), std::string::npos);
  Bytes truncated = a.credential;
  truncated.pop_back();
  EXPECT_TRUE(absl::IsInvalidArgument(
      CredentialSigner::Create(a.key_and_cert.key_pem, truncated).status()));
  EXPECT_FALSE(CredentialSigner::Create("not a key", a.credential).ok());
  EXPECT_FALSE(CredentialVerifier::FromPem("not a certificate").ok());
}

// Only one byte string per credential and per signature: otherwise one
// device could hold two seats past the duplicate-identity check, which
// compares identity bytes.
TEST(CredentialIdentity, SignaturesAreLowSAndTheirHighTwinsAreRefused) {
  const Fleet& fleet = TestFleet();
  const Device& device = fleet.devices[5];
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, kP256Order);
  BignumPtr half(n);
  BN_rshift1(half.get(), half.get());
  std::mt19937 rng(17);
  for (int trial = 0; trial < 30; ++trial) {
    const Bytes message = RandomMessage(rng);
    const Bytes signature = *device.signer->Sign(message);
    BignumPtr s(BN_bin2bn(signature.data() + 32, 32, nullptr));
    EXPECT_LE(BN_cmp(s.get(), half.get()), 0);
    EXPECT_TRUE(fleet.verifier->Verify(device.credential, message, signature).ok());
    EXPECT_TRUE(absl::IsUnauthenticated(
        fleet.verifier->Verify(device.credential, message, HighTwin(signature))));
  }
  // The CA's signature inside the credential, re-encoded as its twin.
  Bytes twin_credential = device.credential;
  const Bytes ca_signature(device.credential.end() - 64, device.credential.end());
  const Bytes twin = HighTwin(ca_signature);
  std::copy(twin.begin(), twin.end(), twin_credential.end() - 64);
  const Bytes message = {1};
  auto status = fleet.verifier->Verify(twin_credential, message, *device.signer->Sign(message));
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
}

TEST(CredentialIdentity, RefusesCertificatesAndMalformedIdentities) {
  const Fleet& fleet = TestFleet();
  const Bytes message = {1, 2, 3};
  // The fleet device's own X.509 certificate: fleets sign with credentials
  // only (the certificate names the device).
  auto x509 = X509Signer::FromPem(fleet.devices[0].key_and_cert.key_pem,
                                  fleet.devices[0].key_and_cert.cert_pem);
  ASSERT_TRUE(x509.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(
      fleet.verifier->Verify((*x509)->identity(), message, *(*x509)->Sign(message))));
  const Device& device = fleet.devices[6];
  const Bytes signature = *device.signer->Sign(message);
  Bytes padded = device.credential;
  padded.push_back(0);
  for (const Bytes& bad : {Bytes{}, Bytes(kCredentialBytes, 0), padded,
                           Bytes(device.credential.begin(), device.credential.end() - 1)}) {
    EXPECT_TRUE(absl::IsUnauthenticated(fleet.verifier->Verify(bad, message, signature)));
  }
  // A CA-signed credential whose key is not a curve point (the CA's key
  // here signs it, as a buggy issuer would): refused at the key.
  EvpPkeyPtr ca_key = PrivateKey(fleet.ca.key_pem);
  Credential off_curve;
  off_curve.not_after = static_cast<uint64_t>(std::time(nullptr)) + 3600;
  off_curve.public_key = Bytes(kP256CompressedKeyBytes, 0xff);  // X >= p
  off_curve.public_key[0] = 0x02;
  off_curve.ca_signature =
      *SignP256(ca_key.get(), CredentialSigningInput(off_curve.not_after, off_curve.public_key));
  EXPECT_TRUE(absl::IsUnauthenticated(
      fleet.verifier->Verify(EncodeCredential(off_curve), message, signature)));
  // Raw signatures of the wrong length.
  Bytes long_signature = signature;
  long_signature.push_back(0);
  EXPECT_TRUE(
      absl::IsUnauthenticated(fleet.verifier->Verify(device.credential, message, long_signature)));
}

// Two seats presenting one credential (each advertisement validly signed by
// the one device key): the server refuses the second seat, and a client
// refuses a broadcast that lists both.
TEST(CredentialIdentity, OneCredentialCannotHoldTwoSeats) {
  const Fleet& fleet = TestFleet();
  // Server side, advertise_keys.
  ServerConfig config = testing::SmallConfig();
  config.verifier = fleet.verifier;
  auto round = testing::MakeRound(config);
  auto parties = testing::MakeParties(5, 52);
  ServerAdvertiseKeysState server(round);
  auto advertise = [&](uint32_t id, const Device& device) {
    auto m = testing::ClientMessage(7, {});
    auto* a = m.mutable_advertise_keys();
    a->set_encryption_public_key(parties.at(id).PublicKeys().encryption_public_key());
    a->set_masking_public_key(parties.at(id).PublicKeys().masking_public_key());
    a->set_identity(ToString(device.signer->identity()));
    a->set_signature(ToString(*device.signer->Sign(AdvertisementSigningInput(
        round->CommonParameters(), id, a->encryption_public_key(), a->masking_public_key()))));
    return m;
  };
  for (uint32_t id = 1; id <= 4; ++id) {
    ASSERT_TRUE(server.HandleClientMessage(id, advertise(id, fleet.devices[id])).ok()) << id;
  }
  auto second_seat = server.HandleClientMessage(5, advertise(5, fleet.devices[4]));
  EXPECT_TRUE(absl::IsInvalidArgument(second_seat)) << second_seat;

  // Client side, share_keys: a broadcast from a server that seats one
  // credential twice.
  constexpr uint32_t kCohort = 7;
  auto client_parties = testing::MakeParties(kCohort, 5);
  const v1::SecAggRoundParameters params = testing::Params(9, 5, kCohort, 4);
  auto env = std::make_shared<ClientEnvironment>();
  env->config.client_id = 1;
  env->config.verifier = fleet.verifier;
  env->random = testing::Seeded(5, "client-1");
  ClientShareKeysState client(env,
                              testing::ContextFor(client_parties.at(1), client_parties, params));
  std::vector<v1::SecAggPublicKeys> keys;
  for (uint32_t id = 1; id <= kCohort; ++id) {
    const Device& device = fleet.devices[id == 4 ? 3 : id];  // seats 3 and 4: one device
    v1::SecAggPublicKeys k = client_parties.at(id).PublicKeys();
    k.set_identity(ToString(device.signer->identity()));
    k.set_signature(ToString(*device.signer->Sign(
        AdvertisementSigningInput(params, id, k.encryption_public_key(), k.masking_public_key()))));
    ASSERT_TRUE(CheckAdvertisementSignature(*fleet.verifier, params, k).ok()) << id;
    keys.push_back(k);
  }
  v1::SecAggServerToClient broadcast;
  broadcast.set_round_id(9);
  broadcast.set_session_id(ToString(*ComputeSessionId(params, keys)));
  for (const auto& k : keys) *broadcast.mutable_keys_broadcast()->add_keys() = k;
  auto t = client.Handle(broadcast);
  EXPECT_TRUE(absl::IsInvalidArgument(t.status())) << t.status();
  EXPECT_NE(t.status().message().find("one identity"), std::string::npos) << t.status();
}

}  // namespace
}  // namespace tacit::secagg
