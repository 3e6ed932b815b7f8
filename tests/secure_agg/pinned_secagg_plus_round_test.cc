// A SecAgg+ round (30 clients, degree 12, t = 9) with injected deterministic
// randomness and a client lost in every phase from share_keys on, run through
// the round driver and the in-process delivery: the SHA-256 of each phase's
// server messages (every recipient's id and serialized message, in id order)
// and the final sum are pinned. The pins were taken before the server's
// outbox became lazy (secure_agg/server_messages.h): the key broadcast built
// from the one key map, the consistency check's one survivor list and the
// messages held serialized must put on the wire exactly what the protobuf
// objects did. Update the pins only for an intended protocol change, and say
// so in the commit.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "secure_agg/client.h"
#include "secure_agg/in_process_delivery.h"
#include "secure_agg/randomness.h"
#include "secure_agg/round_driver.h"
#include "tests/secure_agg/seeded_clients.h"

namespace tacit::secagg {
namespace {

constexpr uint64_t kSeed = 4242;

struct PinnedRun {
  std::vector<std::string> phase_digests;  // "<phase> <recipients>: <sha256>"
  std::vector<int64_t> quantized_sum;
  std::vector<uint32_t> survivors;
};

// Hashes each phase's messages as the clients receive them, then hands them on.
class DigestingDelivery final : public Delivery {
 public:
  explicit DigestingDelivery(InProcessDelivery& inner) : inner_(inner) {}

  absl::Status Deliver(Phase phase, const ServerMessages& messages,
                       const ReplySink& reply) override {
    Sha256Hasher hasher;
    size_t recipients = 0;
    for (uint32_t id : messages.recipients()) {
      // What a client receives: the outbox's bytes, whichever way it holds them.
      absl::StatusOr<std::string> bytes = messages.Serialized(id);
      if (!bytes.ok()) return bytes.status();
      hasher.Update(absl::StrCat(id, ":", bytes->size(), ":"));
      hasher.Update(*bytes);
      ++recipients;
    }
    auto digest = hasher.Finish();
    if (!digest.ok()) return digest.status();
    digests.push_back(absl::StrCat(PhaseName(phase), " ", recipients, ": ", DigestHex(*digest)));
    return inner_.Deliver(phase, messages, reply);
  }

  std::vector<std::string> digests;

 private:
  InProcessDelivery& inner_;
};

absl::StatusOr<PinnedRun> RunPinnedRound() {
  ServerConfig sc;
  sc.round_id = 2718;
  for (uint32_t id = 1; id <= 30; ++id) sc.cohort_ids.push_back(id * 7);
  sc.neighbors = 12;
  sc.threshold = 9;  // above two thirds of the 13 holders, as clients require
  sc.bits = 40;
  sc.clip_bound = 1.0;
  sc.scale = 1 << 14;
  sc.max_weight = 2.0;
  sc.vector_length = 9;
  sc.unmask_threads = 1;
  auto server_random = SeededRandomSourceForTesting::FromSeed(kSeed, "server");
  if (!server_random.ok()) return server_random.status();
  sc.random = *server_random;
  auto driver = RoundDriver::Create(sc);
  if (!driver.ok()) return driver.status();

  auto seeded = testing::MakeSeededClients(
      sc, kSeed, [](uint32_t id, size_t i) { return 0.01f * id - 0.05f * i; },
      [](uint32_t id) { return 1.0 + 0.02 * id; });
  if (!seeded.ok()) return seeded.status();
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients = std::move(*seeded);
  // One client lost before each phase from share_keys on: 4 of 30, so
  // every neighbourhood of 13 keeps at least t = 9.
  InProcessDelivery::Options options;
  options.workers = 1;
  options.dropouts.dropped_before[PhaseIndex(Phase::kShareKeys)] = {21};
  options.dropouts.dropped_before[PhaseIndex(Phase::kMaskedInput)] = {70};
  options.dropouts.dropped_before[PhaseIndex(Phase::kConsistencyCheck)] = {140};
  options.dropouts.dropped_before[PhaseIndex(Phase::kUnmasking)] = {203};
  InProcessDelivery inner(std::move(clients), std::move(options));
  DigestingDelivery delivery(inner);
  auto result = RunRound(**driver, delivery);
  if (!result.ok()) return result.status();
  PinnedRun run;
  run.phase_digests = delivery.digests;
  run.quantized_sum = result->quantized_sum;
  run.survivors = result->survivor_ids;
  return run;
}

// Pinned from a run of this test before the outbox became lazy; see the file
// comment before changing them.
const std::vector<std::string> kPinnedDigests = {
    "advertise_keys 30: 144e9a45ac2fb149778fb4b727067b31a24239e284dbc5ea6df91112311f80a3",
    "share_keys 30: e26a371ba230b4892c17274fc30a70189ddbb92d9a26ee9941a5221f0f52e747",
    "masked_input 29: 60edf9436b7bdb7eae2c8cb396f6311db68e0a314d43ee82095ec013581b0340",
    "consistency_check 28: 0f6c93486343a9321a398638a1210e8301dc4f21dde0474a85a119060229eea1",
    "unmasking 27: f52a423a0d121031343ae33dffdb9e359c3b8444e90a7e100d275629abe3afb5",
};
const std::vector<int64_t> kPinnedSum = {727676, 710063, 690813, 670577, 649358,
                                         626833, 602995, 578175, 552370, 876545};

TEST(PinnedSecAggPlusRound, EveryPhaseOfServerMessagesAndTheSumArePinned) {
  auto run = RunPinnedRound();
  ASSERT_TRUE(run.ok()) << run.status();
  std::string all;
  for (const auto& line : run->phase_digests) all += "    \"" + line + "\",\n";
  std::string sum;
  for (int64_t v : run->quantized_sum) sum += std::to_string(v) + ", ";
  EXPECT_EQ(run->phase_digests, kPinnedDigests) << "this run:\n" << all;
  EXPECT_EQ(run->quantized_sum, kPinnedSum) << "this run: " << sum;
  // 70 vanished before its masked input: its input is not in the sum; 140
  // and 203 sent theirs, and the consistency check and unmasking need
  // neither of them.
  std::vector<uint32_t> survivors;
  for (uint32_t id = 1; id <= 30; ++id) {
    if (id * 7 != 21 && id * 7 != 70) survivors.push_back(id * 7);
  }
  EXPECT_EQ(run->survivors, survivors);
}

}  // namespace
}  // namespace tacit::secagg
