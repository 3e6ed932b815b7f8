// A whole small round (5 clients, t = 4, client 5 drops after sharing keys)
// with injected deterministic randomness: the SHA-256 of every message each
// client and the server send, and the final sum, are pinned. The round is run
// twice in-process to show it is deterministic. A change to any byte on the
// wire (key derivation, share encoding, mask expansion, rounding, message
// layout) changes a pinned digest: update the pins only for an intended
// protocol change, and say so in the commit.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "secure_agg/client.h"
#include "secure_agg/randomness.h"
#include "secure_agg/server.h"
#include "tests/secure_agg/seeded_clients.h"

namespace tacit::secagg {
namespace {

constexpr uint64_t kSeed = 2026;
constexpr uint32_t kDropped = 5;

struct Transcript {
  std::vector<std::string> lines;  // "<from> -> <to> <phase>: <sha256 of the message>"
  std::vector<int64_t> quantized_sum;
  std::vector<uint32_t> survivors;
};

std::string Digest(const google::protobuf::Message& m) {
  std::string bytes;
  EXPECT_TRUE(m.SerializeToString(&bytes));
  auto digest = tacit::Sha256(std::string_view(bytes));
  EXPECT_TRUE(digest.ok());
  return digest.ok() ? DigestHex(*digest) : "";
}

absl::StatusOr<Transcript> RunRound() {
  ServerConfig sc;
  sc.round_id = 314;
  sc.cohort_ids = {1, 2, 3, 4, 5};
  sc.threshold = 4;  // above two thirds of the 5 holders, as clients require
  sc.bits = 32;
  sc.clip_bound = 1.0;
  sc.scale = 1 << 12;
  sc.vector_length = 6;
  sc.unmask_threads = 2;
  auto server_random = SeededRandomSourceForTesting::FromSeed(kSeed, "server");
  if (!server_random.ok()) return server_random.status();
  sc.random = *server_random;
  auto server = SecAggServer::Create(sc);
  if (!server.ok()) return server.status();

  auto seeded = testing::MakeSeededClients(
      sc, kSeed, [](uint32_t id, size_t i) { return 0.1f * id - 0.07f * i; },
      [](uint32_t id) { return 0.5 + 0.1 * id; });
  if (!seeded.ok()) return seeded.status();
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients = std::move(*seeded);

  Transcript t;
  auto outcome = (*server)->AdvancePhase();
  if (!outcome.ok()) return outcome.status();
  for (Phase phase : kAllPhases) {
    for (const auto& [id, message] : outcome->messages.ToMap()) {
      t.lines.push_back(
          absl::StrCat("server -> ", id, " ", PhaseName(phase), ": ", Digest(message)));
      auto reply = clients.at(id)->HandleServerMessage(message);
      if (!reply.ok()) return reply.status();
      // Client 5 computes its masked input but it is lost on the way.
      if (id == kDropped && phase == Phase::kMaskedInput) continue;
      t.lines.push_back(absl::StrCat(id, " -> server ", PhaseName(phase), ": ", Digest(*reply)));
      absl::Status accepted = (*server)->HandleClientMessage(id, *reply);
      if (!accepted.ok()) return accepted;
    }
    outcome = (*server)->AdvancePhase();
    if (!outcome.ok()) return outcome.status();
  }
  if (!outcome->result) return absl::InternalError("the round ended without a result");
  t.quantized_sum = outcome->result->quantized_sum;
  t.survivors = outcome->result->survivor_ids;
  return t;
}

// Pinned from a run of this test; see the file comment before changing them.
const std::vector<std::string>& PinnedLines() {
  static const auto* const kLines = new std::vector<std::string>{
      "server -> 1 advertise_keys: "
      "45f4925561f83c024dc39cb5607c8fb43432b4e85171903f54517decf54546eb",
      "1 -> server advertise_keys: "
      "e7374ce5d8d8fab817c4ff48d7e1c3dad57a20270960bfe019ea61a62eb01f6e",
      "server -> 2 advertise_keys: "
      "c4a016bb15ac664863b6e992da647d21593816722a945a40a499ca2fd1d2bd4b",
      "2 -> server advertise_keys: "
      "447445e7f7b0ada10d9aa794163f351f9bcc4fd64c539dd610ab00c3a5ea64f5",
      "server -> 3 advertise_keys: "
      "049e3e25ca8cd91b574dce0a0f04ffd6af8731de9a02e6b9952b2e1ec0b3a096",
      "3 -> server advertise_keys: "
      "2f1da7f04802d2e31822e48220b946e0b0e4dc1d69f6cf8a7e72dfdc00f6dd87",
      "server -> 4 advertise_keys: "
      "3d6798b3d53c6f302b202a808e81e0a5e5e4e5129e606b770161ec58ce69af55",
      "4 -> server advertise_keys: "
      "828b2f2e9bb56070aab4aa5041e081e74c1820d5369525b045e104bece206420",
      "server -> 5 advertise_keys: "
      "eee217e48c1a35f123a1257788d0eb78e4f26f5036bbf38f07308e8d234ed361",
      "5 -> server advertise_keys: "
      "d48dae8c61fa14f27c3f99d49f7f87ae0586f112d491fd5c9dc917158b2988c8",
      "server -> 1 share_keys: "
      "0706abc3967d963c8e37dbe44c4d9f2fbc5f8b2d2a85b4110925f5ad30d609ca",
      "1 -> server share_keys: "
      "6e8929316ad4971c1d971e310a9ff511752729dd575fe4567b794e51910775d7",
      "server -> 2 share_keys: "
      "3e8a0c5ec6c5b4477c4d5d74ba07358d7b3f9bf8cb55147c82bc1b9ed0b5403a",
      "2 -> server share_keys: "
      "b2aa35c4e36c3b7f42f8f2d1d4409849b3690a10092be68c1a6d05ecf448972a",
      "server -> 3 share_keys: "
      "af972fc709696529936e51b1ff6eaccfede88e2155c71d39bea21ad3b399d8e4",
      "3 -> server share_keys: "
      "c63165403e006506dd7a76560e5da33b8b8f5b444a217e6fa47704a3eee3a014",
      "server -> 4 share_keys: "
      "397f9bd5fa09fe347401e168d867ad66c9fa419426e43ff12f466e035e491329",
      "4 -> server share_keys: "
      "96a2776f5165e084f6641e7a6909760e8d6a1d46f63334c902b6ec4629a4275a",
      "server -> 5 share_keys: "
      "2a0212258f3eff95865ad6ec271f62bd780b4340de7a812006ea2c25331b7ee5",
      "5 -> server share_keys: "
      "7b7ea939a9aae01c26972eb73067d37159646a1de3b4eb0305af7d5db084fc95",
      "server -> 1 masked_input: "
      "4011ed2985d39f082a833ed22a128657033934b4b0b54f0c3652ce4a0cec41d0",
      "1 -> server masked_input: "
      "d68600f190e2ea86aaa200762e83e73bf99afaa0f19390bcd1b5057f51be3071",
      "server -> 2 masked_input: "
      "29979376cac2d6a7035390a82bc19fde1867c30953b490b51d6d26f9fb9d1fe5",
      "2 -> server masked_input: "
      "f6e036d73e6ae069ca9a78e2f05cd3ba8eb37a5b19143e3174fdc73a8da36a69",
      "server -> 3 masked_input: "
      "13f33a3829f264b98e48a3f0967533ccd91dd3f54d8248c7aba4af5448cd32b3",
      "3 -> server masked_input: "
      "71f9b01b387e71593fcdb6106f6fcaf78bdc3e71f414f65ce30a8a4bade34db9",
      "server -> 4 masked_input: "
      "995a4c5a1d56e666de2b7e03973480663ef9b3d2f570f98e5ce5a0bf8805604f",
      "4 -> server masked_input: "
      "760fec869474e088c871bd930e0ba4c7ae811af340c09025238608a5f024b20f",
      "server -> 5 masked_input: "
      "8081534c18be5a4ae0367e9ee7b0072facd337cb6a77f8a1f8c7ecd5c86b7026",
      "server -> 1 consistency_check: "
      "cd6964fbd38ff529991bbaffa3d8480e1f9411bc0ad9f469e118a00ccb5a8b98",
      "1 -> server consistency_check: "
      "9f4315cf79f515c77a64d268037857d610342ceb6b4351e0d9b5101583a763e2",
      "server -> 2 consistency_check: "
      "cd6964fbd38ff529991bbaffa3d8480e1f9411bc0ad9f469e118a00ccb5a8b98",
      "2 -> server consistency_check: "
      "9f4315cf79f515c77a64d268037857d610342ceb6b4351e0d9b5101583a763e2",
      "server -> 3 consistency_check: "
      "cd6964fbd38ff529991bbaffa3d8480e1f9411bc0ad9f469e118a00ccb5a8b98",
      "3 -> server consistency_check: "
      "9f4315cf79f515c77a64d268037857d610342ceb6b4351e0d9b5101583a763e2",
      "server -> 4 consistency_check: "
      "cd6964fbd38ff529991bbaffa3d8480e1f9411bc0ad9f469e118a00ccb5a8b98",
      "4 -> server consistency_check: "
      "9f4315cf79f515c77a64d268037857d610342ceb6b4351e0d9b5101583a763e2",
      "server -> 1 unmasking: "
      "025fa67cde3d3efd81a2f1a3128f3b408f4612afe6b72aea3e9d48fe331e69b0",
      "1 -> server unmasking: "
      "3e55bb7bc0a8427f480fe9a4d5de87d297c59d0607f754bff8d65336433fd2d8",
      "server -> 2 unmasking: "
      "025fa67cde3d3efd81a2f1a3128f3b408f4612afe6b72aea3e9d48fe331e69b0",
      "2 -> server unmasking: "
      "5f2d3cf9268f7e3e87d102870e311ebc396670857d69fa041c6b6a0838eaa286",
      "server -> 3 unmasking: "
      "025fa67cde3d3efd81a2f1a3128f3b408f4612afe6b72aea3e9d48fe331e69b0",
      "3 -> server unmasking: "
      "1880faf4db7af959684cf46e31bb2abc921bcee9c9693c8cfcf93b279ba3410b",
      "server -> 4 unmasking: "
      "025fa67cde3d3efd81a2f1a3128f3b408f4612afe6b72aea3e9d48fe331e69b0",
      "4 -> server unmasking: "
      "a3710552bf17ba422e98947fbd6b5980e160cc686bbcde3113ab24fa927c6469",
  };
  return *kLines;
}
const std::vector<int64_t> kPinnedSum = {3278, 2415, 1556, 695, -164, -1023, 12287};

TEST(DeterministicRound, EveryMessageAndTheSumArePinned) {
  auto first = RunRound();
  ASSERT_TRUE(first.ok()) << first.status();
  std::string all;
  for (const auto& line : first->lines) all += "      \"" + line + "\",\n";
  std::string sum;
  for (int64_t v : first->quantized_sum) sum += std::to_string(v) + ", ";
  EXPECT_EQ(first->lines, PinnedLines()) << "this run:\n" << all;
  EXPECT_EQ(first->quantized_sum, kPinnedSum) << "this run: " << sum;
  EXPECT_EQ(first->survivors, (std::vector<uint32_t>{1, 2, 3, 4}));
  // 5 phases x (5 server messages + 5 replies) - the lost masked input - no
  // consistency check or unmasking request to 5.
  EXPECT_EQ(first->lines.size(), 5u * 10 - 1 - 2 - 2);
}

TEST(DeterministicRound, TwoRunsInOneProcessAreIdentical) {
  auto first = RunRound();
  auto second = RunRound();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->lines, second->lines);
  EXPECT_EQ(first->quantized_sum, second->quantized_sum);
}

TEST(DeterministicRound, TheSumIsTheSumOfTheSurvivorsQuantizedInputs) {
  // Independent of the pins: the survivors' rounding is reproducible from
  // their sources, so the exact sum is known in closed form up to rounding.
  auto run = RunRound();
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->quantized_sum.size(), 7u);
  double weight = 0;
  for (uint32_t id = 1; id <= 4; ++id) weight += (0.5 + 0.1 * id) * (1 << 12);
  EXPECT_NEAR(run->quantized_sum[6], weight, 4.0);
  for (size_t i = 0; i < 6; ++i) {
    double expected = 0;
    for (uint32_t id = 1; id <= 4; ++id) {
      expected += (0.5 + 0.1 * id) * static_cast<double>(0.1f * id - 0.07f * i) * (1 << 12);
    }
    EXPECT_NEAR(run->quantized_sum[i], expected, 4.0) << "element " << i;
  }
}

TEST(SeededRandomSourceForTesting, IsDeterministicPerSeedAndLabel) {
  auto a = *SeededRandomSourceForTesting::FromSeed(1, "x");
  auto b = *SeededRandomSourceForTesting::FromSeed(1, "x");
  auto c = *SeededRandomSourceForTesting::FromSeed(1, "y");
  auto d = *SeededRandomSourceForTesting::FromSeed(2, "x");
  std::vector<uint8_t> ba(48), bb(48), bc(48), bd(48);
  ASSERT_TRUE(a->Fill(absl::MakeSpan(ba)).ok());
  ASSERT_TRUE(b->Fill(absl::MakeSpan(bb).subspan(0, 5)).ok());  // split draws, same stream
  ASSERT_TRUE(b->Fill(absl::MakeSpan(bb).subspan(5)).ok());
  ASSERT_TRUE(c->Fill(absl::MakeSpan(bc)).ok());
  ASSERT_TRUE(d->Fill(absl::MakeSpan(bd)).ok());
  EXPECT_EQ(ba, bb);
  EXPECT_NE(ba, bc);
  EXPECT_NE(ba, bd);
  // The stream is AES-256-CTR under the derived key, from counter 0.
  std::vector<uint8_t> next(16), again(16);
  ASSERT_TRUE(a->Fill(absl::MakeSpan(next)).ok());
  ASSERT_TRUE(b->Fill(absl::MakeSpan(again)).ok());
  EXPECT_EQ(next, again);
}

TEST(ProductionRandomSource, FillsAndIsTheDefault) {
  std::vector<uint8_t> x(32, 0), y(32, 0);
  ASSERT_TRUE(ProductionRandomSource().Fill(absl::MakeSpan(x)).ok());
  ASSERT_TRUE(ResolveRandomSource(nullptr)->Fill(absl::MakeSpan(y)).ok());
  EXPECT_NE(x, y);
  EXPECT_EQ(ResolveRandomSource(nullptr).get(), &ProductionRandomSource());
  auto seeded = *SeededRandomSourceForTesting::FromSeed(3);
  EXPECT_EQ(ResolveRandomSource(seeded).get(), seeded.get());
}

}  // namespace
}  // namespace tacit::secagg
