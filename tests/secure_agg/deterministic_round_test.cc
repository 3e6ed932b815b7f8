// A whole small round (5 clients, t = 3, client 5 drops after sharing keys)
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
  sc.threshold = 3;
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

  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients;
  for (uint32_t id : sc.cohort_ids) {
    ClientConfig cc;
    cc.client_id = id;
    auto random = SeededRandomSourceForTesting::FromSeed(kSeed, "client-" + std::to_string(id));
    if (!random.ok()) return random.status();
    cc.random = *random;
    std::vector<float> input(6);
    for (size_t i = 0; i < input.size(); ++i) input[i] = 0.1f * id - 0.07f * i;
    auto client = SecAggClient::Create(cc, input, 0.5 + 0.1 * id);
    if (!client.ok()) return client.status();
    clients[id] = std::move(*client);
  }

  Transcript t;
  auto outcome = (*server)->AdvancePhase();
  if (!outcome.ok()) return outcome.status();
  for (Phase phase : kAllPhases) {
    for (const auto& [id, message] : outcome->messages) {
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
      "cddb573cf69d3d5111b295fe5372ba320e1195b261edb570434908b0291f7974",
      "1 -> server advertise_keys: "
      "e7374ce5d8d8fab817c4ff48d7e1c3dad57a20270960bfe019ea61a62eb01f6e",
      "server -> 2 advertise_keys: "
      "ac0202beca26c95a604901ca4e22acc97ffd6031b2aa1d66453778f7103c197d",
      "2 -> server advertise_keys: "
      "447445e7f7b0ada10d9aa794163f351f9bcc4fd64c539dd610ab00c3a5ea64f5",
      "server -> 3 advertise_keys: "
      "a8c8cfe2e4399781ad29dd756e3f5b2469c5df8235ea7dec77b50de06212da0b",
      "3 -> server advertise_keys: "
      "2f1da7f04802d2e31822e48220b946e0b0e4dc1d69f6cf8a7e72dfdc00f6dd87",
      "server -> 4 advertise_keys: "
      "af557d12ad213b98bdb3b5709bd6719756c697273ac86bd319ef6c60e1a24266",
      "4 -> server advertise_keys: "
      "828b2f2e9bb56070aab4aa5041e081e74c1820d5369525b045e104bece206420",
      "server -> 5 advertise_keys: "
      "1bb0474625f1e2f49c66ac423e36b655b2b6906a4a80bc1db7f4f8b77afcfd1d",
      "5 -> server advertise_keys: "
      "d48dae8c61fa14f27c3f99d49f7f87ae0586f112d491fd5c9dc917158b2988c8",
      "server -> 1 share_keys: 090cd43de887f56e059dd8f1f0d1ec4d3318a2804b0e34a38a4dd841655b8032",
      "1 -> server share_keys: 99337be1ee59632329467e61b9db9f41f739d1c08c384f378254790f2feb9a30",
      "server -> 2 share_keys: b6f629045ce63801818756c5a9b6ee7b5e2ef845aa5e8a851bd16088d6a64930",
      "2 -> server share_keys: 709b9170800bc94de4f353670b2d3117e3bfa8f696e5b4b028efdbf3f988a3da",
      "server -> 3 share_keys: 673c7b381b1cb7e424c0dd1b3a52c38d6b18373785cbc27b3de7560aec3da00b",
      "3 -> server share_keys: b67e4f49ad6263320cef8f77d1c343c440c3c23bac67204fbab031c31fc68bf1",
      "server -> 4 share_keys: 76af8c98e823a467a065bebaccda3f97cb47cfeccba0ce8fe9ce92af5faf3b04",
      "4 -> server share_keys: 4d8a2d42ce33351d71abb4b0dc7d1f42ec9eb164b3bb356b884b05987b111425",
      "server -> 5 share_keys: 2b5a7bfece08e7462d571d6e0305b80f2f7d17fb918d0cd35357136127440457",
      "5 -> server share_keys: 6e024de4f96b0f8dba9d4e3ff63e901f59c638ccdee81ca51858db3578c336bf",
      "server -> 1 masked_input: 265202029dbc6a2d3e199fbcd51a872a7a9d8cdafb2e94c0a9cd80c9bb67d2d8",
      "1 -> server masked_input: 6850e9b474f6f70951027f85353e5f054fb8c47b062a997013f746c633b1742d",
      "server -> 2 masked_input: dbe835f5a2b70802b9eb05b1e88f660522b78ec9d0e92957df7cf39cc4929b79",
      "2 -> server masked_input: 5464cffce12f2cac04209ef42adee0dabc1bf8da70e5c9217d0b2ebc29c2cef9",
      "server -> 3 masked_input: b4acca2c8220c8fb2b856582e7bb23d693c751af047acd5b88a0ec2317e00b3f",
      "3 -> server masked_input: 45052cbfc852bbe7923229a78f195c0de686c55bd820856a32376b9c221b28d4",
      "server -> 4 masked_input: e53101cc0c8840b90cde14eda22bd67197beabbddf86dc6a32f57d5ac9014d46",
      "4 -> server masked_input: f4386a24d07e2d8cc1b77481c1f488abe0d4aebc16a79902aebfdb20ee907a7c",
      "server -> 5 masked_input: 164bfd4e3eec3d98d2c08cd84bd52f9981661182be858f9b19e679f7cd9b95d0",
      "server -> 1 unmasking: 9ffb3fbe6e359a47f0d7bb197df843e0ece9ed6a6a3cebce2c39978cbabd2df1",
      "1 -> server unmasking: d401b4278d2c6f6c9a793b8d310a941449ee0b2975fec3f8ef666ea6f8d84ff3",
      "server -> 2 unmasking: 9ffb3fbe6e359a47f0d7bb197df843e0ece9ed6a6a3cebce2c39978cbabd2df1",
      "2 -> server unmasking: 222dc8952f14bf81db5cfc558b61363900191be352f5be523952d3c653b5928e",
      "server -> 3 unmasking: 9ffb3fbe6e359a47f0d7bb197df843e0ece9ed6a6a3cebce2c39978cbabd2df1",
      "3 -> server unmasking: 04baebe71e6618fbbed120e1dbf1b44e8853fdeb9a7712a395bdac62b8d2006f",
      "server -> 4 unmasking: 9ffb3fbe6e359a47f0d7bb197df843e0ece9ed6a6a3cebce2c39978cbabd2df1",
      "4 -> server unmasking: fd8f2ffa756ffc9291a7059207ad91cea25dd38d21e2235e7d5790dd685fcb35",
  };
  return *kLines;
}
const std::vector<int64_t> kPinnedSum = {3277, 2417, 1556, 696, -163, -1023, 12288};

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
  // 4 phases x (5 server messages + 5 replies) - the lost masked input - no
  // unmasking request to 5.
  EXPECT_EQ(first->lines.size(), 4u * 10 - 1 - 2);
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
