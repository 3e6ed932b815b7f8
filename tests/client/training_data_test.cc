// The daemon's "anything to train on?" before each check-in
// (client/runtime/training_data.h) reads only as many events as it needs,
// and says exactly what tokenizing the whole store says: random small
// stores of events that give a token, no token (key releases, mouse-ups)
// or a collapsed one (the same pointer move again).

#include "client/runtime/training_data.h"

#include <gtest/gtest.h>

#include <random>

#include "client/store/event_store.h"
#include "tests/client/temp_dir.h"
#include "tests/support/test_seed.h"

namespace tacit::runtime {
namespace {

Event RandomEvent(std::mt19937& rng, int64_t time_ms) {
  Event e;
  e.time_ms = time_ms;
  switch (rng() % 5) {
    case 0:
      e.kind = EventKind::kKeyRelease;  // no token
      break;
    case 1:
      e.kind = EventKind::kMouseUp;  // no token
      break;
    case 2:
      e.kind = EventKind::kMouseMove;  // one token per run of the same cell
      e.x = e.y = 0.1f;
      break;
    case 3:
      e.kind = EventKind::kShellCommand;
      e.command = "git";
      break;
    default:
      e.kind = EventKind::kKeyPress;
      e.key_class = KeyClass::kLetter;
      break;
  }
  return e;
}

std::string Reason(const absl::StatusOr<std::string>& reason) {
  return reason.ok() ? *reason : std::string(reason.status().message());
}

TEST(TrainingData, TheCheapCheckSaysWhatTheWholeStoreSays) {
  const auto seed = static_cast<uint32_t>(::tacit::testing::TestSeed());
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937 rng(seed);
  TaskConfig task;
  task.vocab.salt = "s";
  int with_data = 0, without = 0;
  for (int trial = 0; trial < 40; ++trial) {
    testing::TempDir dir;
    const int events = static_cast<int>(rng() % 12);
    SCOPED_TRACE(::testing::Message() << events << " events");
    {
      auto store = EventStore::OpenInDirectory(dir.path());
      ASSERT_TRUE(store.ok()) << store.status();
      std::vector<Event> batch;
      for (int i = 0; i < events; ++i) batch.push_back(RandomEvent(rng, 1767571200000 + i));
      ASSERT_TRUE((*store)->Append(batch).ok());
    }
    absl::StatusOr<PersonTokens> all = LoadTrainingTokens(dir.path(), "me", task);
    ASSERT_TRUE(all.ok()) << all.status();
    const std::string expected = NoTrainingWindowReason(*all);
    EXPECT_EQ(Reason(NoTrainingDataInStore(dir.path(), "me", task)), expected);
    (expected.empty() ? with_data : without) += 1;
  }
  // Both answers were exercised.
  EXPECT_GT(with_data, 0);
  EXPECT_GT(without, 0);
}

}  // namespace
}  // namespace tacit::runtime
