// Signers and verifiers of advertised keys (secure_agg/identity.h), with the
// fleet's real certificates from coordinator/pki.

#include "secure_agg/identity.h"

#include <random>

#include "coordinator/pki.h"
#include "gtest/gtest.h"
#include "secure_agg/protocol.h"

namespace tacit::secagg {
namespace {

Bytes RandomMessage(std::mt19937& rng) {
  Bytes m(rng() % 300);
  for (uint8_t& b : m) b = static_cast<uint8_t>(rng());
  return m;
}

struct Fleet {
  coordinator::KeyAndCert ca;
  coordinator::KeyAndCert device;
  coordinator::KeyAndCert other_device;
};

const Fleet& TestFleet() {
  static const Fleet* fleet = [] {
    auto* f = new Fleet;
    f->ca = *coordinator::CreateFleetCa("test fleet", 30);
    f->device = *coordinator::IssueDeviceCertificate(f->ca, "laptop-1", 30);
    f->other_device = *coordinator::IssueDeviceCertificate(f->ca, "laptop-2", 30);
    return f;
  }();
  return *fleet;
}

TEST(X509Identity, DeviceSignaturesVerifyAndAnyChangeFails) {
  const Fleet& fleet = TestFleet();
  auto signer = X509Signer::FromPem(fleet.device.key_pem, fleet.device.cert_pem);
  ASSERT_TRUE(signer.ok()) << signer.status();
  auto verifier = X509Verifier::FromPem(fleet.ca.cert_pem);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  auto other = X509Signer::FromPem(fleet.other_device.key_pem, fleet.other_device.cert_pem);
  ASSERT_TRUE(other.ok());
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const Bytes message = RandomMessage(rng);
    auto signature = (*signer)->Sign(message);
    ASSERT_TRUE(signature.ok()) << signature.status();
    const Bytes& identity = (*signer)->identity();
    EXPECT_TRUE((*verifier)->Verify(identity, message, *signature).ok());
    // Another message, a flipped signature bit, or another device's identity.
    Bytes changed = message;
    changed.push_back(static_cast<uint8_t>(rng()));
    EXPECT_TRUE(absl::IsUnauthenticated((*verifier)->Verify(identity, changed, *signature)));
    Bytes flipped = *signature;
    flipped[rng() % flipped.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    EXPECT_FALSE((*verifier)->Verify(identity, message, flipped).ok());
    EXPECT_TRUE(
        absl::IsUnauthenticated((*verifier)->Verify((*other)->identity(), message, *signature)));
  }
}

TEST(X509Identity, RefusesCertificatesOutsideTheFleetAndNonDeviceCertificates) {
  const Fleet& fleet = TestFleet();
  auto verifier = X509Verifier::FromPem(fleet.ca.cert_pem);
  ASSERT_TRUE(verifier.ok());
  const Bytes message = {1, 2, 3};
  // A device of another CA (the one an attacker could run on its own).
  auto rogue_ca = coordinator::CreateFleetCa("rogue", 30);
  auto rogue = coordinator::IssueDeviceCertificate(*rogue_ca, "laptop-1", 30);
  auto rogue_signer = X509Signer::FromPem(rogue->key_pem, rogue->cert_pem);
  ASSERT_TRUE(rogue_signer.ok());
  auto status =
      (*verifier)->Verify((*rogue_signer)->identity(), message, *(*rogue_signer)->Sign(message));
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
  // The fleet's own server certificate (serverAuth) and the CA itself.
  auto server = coordinator::IssueServerCertificate(fleet.ca, {"coordinator.test"}, 30);
  auto server_signer = X509Signer::FromPem(server->key_pem, server->cert_pem);
  ASSERT_TRUE(server_signer.ok());
  status =
      (*verifier)->Verify((*server_signer)->identity(), message, *(*server_signer)->Sign(message));
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
  auto ca_signer = X509Signer::FromPem(fleet.ca.key_pem, fleet.ca.cert_pem);
  ASSERT_TRUE(ca_signer.ok());
  status = (*verifier)->Verify((*ca_signer)->identity(), message, *(*ca_signer)->Sign(message));
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
  // Not a certificate at all, or one with trailing bytes.
  EXPECT_TRUE(absl::IsUnauthenticated((*verifier)->Verify(Bytes(32, 7), message, Bytes(64, 1))));
  auto device = X509Signer::FromPem(fleet.device.key_pem, fleet.device.cert_pem);
  Bytes padded = (*device)->identity();
  padded.push_back(0);
  EXPECT_TRUE(
      absl::IsUnauthenticated((*verifier)->Verify(padded, message, *(*device)->Sign(message))));
}

TEST(X509Identity, KeyMustBelongToTheCertificate) {
  const Fleet& fleet = TestFleet();
  auto mismatched = X509Signer::FromPem(fleet.other_device.key_pem, fleet.device.cert_pem);
  EXPECT_TRUE(absl::IsInvalidArgument(mismatched.status())) << mismatched.status();
  EXPECT_FALSE(X509Signer::FromPem("not a key", fleet.device.cert_pem).ok());
  EXPECT_FALSE(X509Verifier::FromPem("not a certificate").ok());
}

TEST(KnownKeysIdentity, AcceptsOnlyRegisteredKeys) {
  auto a = Ed25519Signer::Generate();
  auto b = Ed25519Signer::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  KnownKeysVerifier verifier;
  verifier.Register((*a)->identity());
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    const Bytes message = RandomMessage(rng);
    const Bytes sa = *(*a)->Sign(message);
    const Bytes sb = *(*b)->Sign(message);
    EXPECT_TRUE(verifier.Verify((*a)->identity(), message, sa).ok());
    EXPECT_TRUE(absl::IsUnauthenticated(verifier.Verify((*b)->identity(), message, sb)));
    EXPECT_TRUE(absl::IsUnauthenticated(verifier.Verify((*a)->identity(), message, sb)));
    Bytes other = message;
    other.push_back(1);
    EXPECT_TRUE(absl::IsUnauthenticated(verifier.Verify((*a)->identity(), other, sa)));
  }
}

// The signed bytes change with every field they cover.
TEST(AdvertisementSigningInput, CoversRoundParametersIdAndBothKeys) {
  v1::SecAggRoundParameters p;
  p.set_round_id(5);
  p.set_threshold(3);
  p.set_cohort_size(5);
  p.set_graph_seed(std::string(32, 'g'));
  const std::string enc(32, 'e'), mask(32, 'm');
  const Bytes base = AdvertisementSigningInput(p, 2, enc, mask);
  auto changed = [&](auto edit) {
    v1::SecAggRoundParameters q = p;
    uint32_t id = 2;
    std::string e = enc, m = mask;
    edit(q, id, e, m);
    return AdvertisementSigningInput(q, id, e, m) != base;
  };
  EXPECT_TRUE(changed([](auto& q, auto&, auto&, auto&) { q.set_round_id(6); }));
  EXPECT_TRUE(changed([](auto& q, auto&, auto&, auto&) { q.set_threshold(4); }));
  EXPECT_TRUE(
      changed([](auto& q, auto&, auto&, auto&) { q.set_graph_seed(std::string(32, 'h')); }));
  EXPECT_TRUE(changed([](auto&, auto& id, auto&, auto&) { id = 3; }));
  EXPECT_TRUE(changed([](auto&, auto&, auto& e, auto&) { e[0] = 'x'; }));
  EXPECT_TRUE(changed([](auto&, auto&, auto&, auto& m) { m[31] = 'x'; }));
  // Swapping the two keys is another advertisement.
  EXPECT_NE(AdvertisementSigningInput(p, 2, mask, enc), base);
  // The per-client neighbour list is not covered: neighbours see different lists.
  v1::SecAggRoundParameters with_neighbors = p;
  with_neighbors.add_neighbor_ids(9);
  EXPECT_EQ(AdvertisementSigningInput(with_neighbors, 2, enc, mask), base);
}

}  // namespace
}  // namespace tacit::secagg
