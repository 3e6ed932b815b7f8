#include "coordinator/state_store.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "common/file_io.h"
#include "common/sql/sql_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_seed.h"

namespace tacit::coordinator {
namespace {

using ::testing::HasSubstr;

// Three devices out of a hundred in every committed round.
constexpr RoundPrivacy kPrivacy{3, 100};

std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/state_" + name + "_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

// A model whose every value encodes its version, so any mix-up shows.
Checkpoint MakeCheckpoint(int64_t task_id, int64_t version, size_t dim) {
  Checkpoint c;
  c.task_id = task_id;
  c.version = version;
  c.model.resize(dim);
  for (size_t i = 0; i < dim; ++i) c.model[i] = static_cast<float>(version) + 1e-3f * (i % 1000);
  c.optimizer_state = "state-v" + std::to_string(version);
  return c;
}

ParticipantRecord Participant(std::string device, ParticipantOutcome outcome,
                              std::string phase = "", std::string reason = "", int64_t up = 0,
                              int64_t down = 0) {
  return {std::move(device), outcome, std::move(phase), std::move(reason), up, down};
}

void ExpectIsVersion(const Checkpoint& c, int64_t version, size_t dim) {
  ASSERT_EQ(c.model.size(), dim);
  EXPECT_EQ(c.version, version);
  EXPECT_EQ(c.model, MakeCheckpoint(c.task_id, version, dim).model);
  EXPECT_EQ(c.optimizer_state, "state-v" + std::to_string(version));
}

// Commits the initial model and rounds 1..rounds of task "t"; returns its id.
int64_t CommitRounds(StateStore& store, int rounds, size_t dim) {
  int64_t task = *store.UpsertTask("t", nlohmann::json::object());
  EXPECT_TRUE(store.CommitInitialModel(MakeCheckpoint(task, 0, dim)).ok());
  for (int r = 1; r <= rounds; ++r) {
    auto round = store.BeginRound(task, r);
    EXPECT_TRUE(round.ok() &&
                store.CommitRound(round->id, MakeCheckpoint(task, r, dim), kPrivacy, {}).ok());
  }
  return task;
}

TEST(CheckpointTest, RoundTripsAndRefusesAnyFlippedByte) {
  Checkpoint c = MakeCheckpoint(4, 9, 257);
  std::string bytes = *EncodeCheckpoint(c);
  auto back = DecodeCheckpoint(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectIsVersion(*back, 9, 257);
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    std::string bad = bytes;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    auto decoded = DecodeCheckpoint(bad);
    EXPECT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_FALSE(DecodeCheckpoint(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(DecodeCheckpoint("").ok());
}

TEST(StateStoreTest, RoundsParticipantsAndVersionsPersistAcrossReopen) {
  std::string dir = FreshDir("persist");
  const size_t dim = 100;
  int64_t task = 0, round1_id = 0;
  {
    auto store = StateStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    auto id = (*store)->UpsertTask("t", {{"rounds", 3}});
    ASSERT_TRUE(id.ok()) << id.status();
    task = *id;
    ASSERT_TRUE((*store)->CommitInitialModel(MakeCheckpoint(task, 0, dim)).ok());
    auto r1 = (*store)->BeginRound(task, 1);
    ASSERT_TRUE(r1.ok()) << r1.status();
    round1_id = r1->id;
    EXPECT_FALSE((*store)->BeginRound(task, 2).ok());  // one round in flight at a time
    ASSERT_TRUE((*store)
                    ->RecordParticipant(r1->id, Participant("dev-a", ParticipantOutcome::kSelected))
                    .ok());
    ASSERT_TRUE((*store)
                    ->RecordParticipant(r1->id, Participant("dev-a", ParticipantOutcome::kCompleted,
                                                            "", "", 1000, 2000))
                    .ok());
    ASSERT_TRUE((*store)
                    ->RecordParticipant(r1->id, Participant("dev-b", ParticipantOutcome::kDropped,
                                                            "share_keys", "deadline"))
                    .ok());
    auto v1 =
        (*store)->CommitRound(r1->id, MakeCheckpoint(task, 1, dim), kPrivacy, {{"accuracy", 0.4}});
    ASSERT_TRUE(v1.ok()) << v1.status();
    EXPECT_FALSE((*store)->CommitRound(r1->id, MakeCheckpoint(task, 1, dim), kPrivacy, {}).ok());
    EXPECT_FALSE((*store)->BeginRound(task, 1).ok());  // already committed
    auto r2 = (*store)->BeginRound(task, 2);
    ASSERT_TRUE(r2.ok());
    EXPECT_FALSE((*store)->CommitRound(r2->id, MakeCheckpoint(task, 5, dim), kPrivacy, {}).ok());
    ASSERT_TRUE((*store)->AbandonRound(r2->id, "only 3 of 10 survived").ok());
    auto r2b = (*store)->BeginRound(task, 2);
    ASSERT_TRUE(r2b.ok());
    EXPECT_EQ(r2b->attempt, 2);
    // Left in flight: the reopen below must abandon it.
  }
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->abandoned_on_open(), 1);
  EXPECT_EQ(*(*store)->UpsertTask("t", {{"rounds", 3}}), task);
  auto changed = (*store)->UpsertTask("t", {{"rounds", 4}});
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kFailedPrecondition);
  // The caller may vouch that a differently written config is the same task:
  // the stored config is then replaced, and the plain lookup matches it.
  auto rejected = (*store)->UpsertTask(
      "t", {{"rounds", 3}, {"extra", 1}},
      [](const nlohmann::json&) { return absl::FailedPreconditionError("changed: extra"); });
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(rejected.status().message().find("changed: extra"), std::string::npos)
      << rejected.status();
  nlohmann::json seen;
  bool created = true;
  auto vouched = (*store)->UpsertTask(
      "t", {{"rounds", 3}, {"extra", 1}},
      [&seen](const nlohmann::json& stored) {
        seen = stored;
        return absl::OkStatus();
      },
      &created);
  EXPECT_FALSE(created);
  ASSERT_TRUE(vouched.ok()) << vouched.status();
  EXPECT_EQ(*vouched, task);
  EXPECT_EQ(seen, nlohmann::json({{"rounds", 3}}));
  EXPECT_EQ(*(*store)->UpsertTask("t", {{"rounds", 3}, {"extra", 1}}), task);
  EXPECT_FALSE((*store)->UpsertTask("t", {{"rounds", 3}}).ok());

  auto rounds = (*store)->Rounds(task);
  ASSERT_TRUE(rounds.ok());
  ASSERT_EQ(rounds->size(), 3u);
  EXPECT_EQ((*rounds)[0].status, RoundStatus::kCommitted);
  EXPECT_EQ((*rounds)[0].metrics["accuracy"], 0.4);
  EXPECT_EQ((*rounds)[1].status, RoundStatus::kAbandoned);
  EXPECT_EQ((*rounds)[1].note, "only 3 of 10 survived");
  EXPECT_EQ((*rounds)[2].status, RoundStatus::kAbandoned);
  EXPECT_THAT((*rounds)[2].note, HasSubstr("restarted"));

  auto people = (*store)->Participants(round1_id);
  ASSERT_TRUE(people.ok());
  ASSERT_EQ(people->size(), 2u);
  EXPECT_EQ((*people)[0].outcome, ParticipantOutcome::kCompleted);
  EXPECT_EQ((*people)[0].bytes_down, 2000);
  EXPECT_EQ((*people)[1].drop_phase, "share_keys");
  EXPECT_EQ((*people)[1].drop_reason, "deadline");

  auto resume = (*store)->Resume(task);
  ASSERT_TRUE(resume.ok()) << resume.status();
  ASSERT_TRUE(resume->checkpoint.has_value());
  ExpectIsVersion(*resume->checkpoint, 1, dim);
  EXPECT_EQ(resume->next_round, 2);
  EXPECT_TRUE(resume->refused.empty());
}

TEST(StateStoreTest, SecondOpenOfTheSameFolderIsRefused) {
  std::string dir = FreshDir("lock");
  auto first = StateStore::Open(dir);
  ASSERT_TRUE(first.ok());
  auto second = StateStore::Open(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("in use by another tacit-coordinator"));
}

// `tacit-coordinator status` reads the state of a running coordinator: its
// connection must not be able to write (it opened read-write before).
TEST(StateStoreTest, OpenForReadingCannotWrite) {
  std::string dir = FreshDir("read-only");
  {
    auto serving = StateStore::Open(dir);
    ASSERT_TRUE(serving.ok()) << serving.status();
    ASSERT_TRUE((*serving)->UpsertTask("t", {{"a", 1}}).ok());
  }
  auto reader = StateStore::OpenForReading(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto tasks = (*reader)->Tasks();
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  EXPECT_EQ(tasks->size(), 1u);
  EXPECT_FALSE((*reader)->UpsertTask("another", {{"b", 2}}).ok());
  auto again = StateStore::OpenForReading(dir);
  ASSERT_TRUE(again.ok());
  auto still = (*again)->Tasks();
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->size(), 1u) << "the read-only store wrote a task";
}

TEST(StateStoreTest, RefusesNewerSchemasAndForeignFiles) {
  std::string dir = FreshDir("schema");
  ASSERT_TRUE(StateStore::Open(dir).ok());
  {
    auto db = SqlDb::Open(dir + "/state.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99").ok());
  }
  auto newer = StateStore::Open(dir);
  ASSERT_FALSE(newer.ok());
  EXPECT_THAT(newer.status().message(), HasSubstr("schema version 99"));

  std::string other = FreshDir("foreign");
  ASSERT_TRUE(MakeDirectories(other).ok());
  ASSERT_TRUE(WriteFileAtomically(other + "/state.db", std::string(8192, 'x')).ok());
  auto foreign = StateStore::Open(other);
  ASSERT_FALSE(foreign.ok());
  EXPECT_THAT(foreign.status().message(), HasSubstr("state.db"));
}

TEST(StateStoreTest, CorruptCheckpointFallsBackToThePreviousOne) {
  std::string dir = FreshDir("corrupt");
  const size_t dim = 64;
  int64_t task = 0;
  {
    auto store = StateStore::Open(dir);
    ASSERT_TRUE(store.ok());
    task = CommitRounds(**store, 3, dim);
  }
  // Flip one byte in the middle of the newest checkpoint.
  std::string path = dir + "/checkpoints/task-" + std::to_string(task) + "/v3.ckpt";
  std::string bytes = *ReadFileToString(path);
  bytes[bytes.size() / 2] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());

  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok());
  auto resume = (*store)->Resume(task);
  ASSERT_TRUE(resume.ok()) << resume.status();
  ASSERT_EQ(resume->refused.size(), 1u);
  EXPECT_THAT(resume->refused[0], HasSubstr("v3.ckpt"));
  ASSERT_TRUE(resume->checkpoint.has_value());
  ExpectIsVersion(*resume->checkpoint, 2, dim);
  EXPECT_EQ(resume->next_round, 3);
  auto rounds = (*store)->Rounds(task);
  EXPECT_EQ(rounds->back().status, RoundStatus::kAbandoned);
  EXPECT_THAT(rounds->back().note, HasSubstr("refused on resume"));
  // Round 3 can be run again, as attempt 2.
  auto retry = (*store)->BeginRound(task, 3);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->attempt, 2);
  ASSERT_TRUE((*store)->CommitRound(retry->id, MakeCheckpoint(task, 3, dim), kPrivacy, {}).ok());
  ExpectIsVersion(*(*store)->LoadCheckpoint(task, 3), 3, dim);
}

TEST(StateStoreTest, NoIntactCheckpointAfterCommittedRoundsIsDataLoss) {
  std::string dir = FreshDir("allcorrupt");
  auto store = StateStore::Open(dir, StateStoreOptions{2});
  ASSERT_TRUE(store.ok());
  int64_t task = CommitRounds(**store, 3, 8);
  std::string folder = dir + "/checkpoints/task-" + std::to_string(task);
  ASSERT_TRUE(WriteFileAtomically(folder + "/v3.ckpt", "garbage").ok());
  ASSERT_TRUE(std::filesystem::remove(folder + "/v2.ckpt"));  // missing counts as lost
  auto resume = (*store)->Resume(task);
  ASSERT_FALSE(resume.ok());
  EXPECT_EQ(resume.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(resume.status().message(), HasSubstr("no intact checkpoint"));
}

TEST(StateStoreTest, BatchParticipantUpdatesAndConcurrentWriters) {
  std::string dir = FreshDir("batch");
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok());
  int64_t task = *(*store)->UpsertTask("t", nlohmann::json::object());
  auto round = (*store)->BeginRound(task, 1);
  ASSERT_TRUE(round.ok());
  std::vector<ParticipantRecord> batch;
  for (int i = 0; i < 200; ++i) {
    batch.push_back(Participant("dev-" + std::to_string(1000 + i), ParticipantOutcome::kSelected));
  }
  ASSERT_TRUE((*store)->RecordParticipants(round->id, batch).ok());
  // Four threads report outcomes for disjoint devices at the same time.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 200; i += 4) {
        auto outcome = i % 10 == 0 ? ParticipantOutcome::kDropped : ParticipantOutcome::kCompleted;
        EXPECT_TRUE((*store)
                        ->RecordParticipants(
                            round->id, {Participant("dev-" + std::to_string(1000 + i), outcome,
                                                    "masked_input", "disconnected")})
                        .ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto people = (*store)->Participants(round->id);
  ASSERT_TRUE(people.ok());
  ASSERT_EQ(people->size(), 200u);
  int dropped = 0;
  for (const ParticipantRecord& p : *people) {
    EXPECT_NE(p.outcome, ParticipantOutcome::kSelected);
    dropped += p.outcome == ParticipantOutcome::kDropped;
  }
  EXPECT_EQ(dropped, 20);
}

TEST(StateStoreTest, OldCheckpointsArePruned) {
  std::string dir = FreshDir("prune");
  auto store = StateStore::Open(dir, StateStoreOptions{2});
  ASSERT_TRUE(store.ok());
  int64_t task = CommitRounds(**store, 4, 8);
  std::string folder = dir + "/checkpoints/task-" + std::to_string(task);
  EXPECT_FALSE(std::filesystem::exists(folder + "/v2.ckpt"));
  EXPECT_TRUE(std::filesystem::exists(folder + "/v3.ckpt"));
  EXPECT_TRUE(std::filesystem::exists(folder + "/v4.ckpt"));
  EXPECT_EQ((*store)->LoadCheckpoint(task, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*store)->ModelVersions(task)->size(), 5u);
}

// A writer process commits rounds as fast as it can and tells the test over a
// pipe when it starts committing each round; the test SIGKILLs it at a random
// moment inside the commit of a random round (checkpoint write, fsync, rename
// or SQL transaction). Reopening must find every committed round with an
// intact checkpoint, no round left in flight, and resume after the last
// committed one.
TEST(StateStoreTest, KilledWriterLeavesCommittedRoundsIntact) {
  const size_t dim = 200000;  // 800 KB per checkpoint: a commit takes tens of ms
  const uint64_t seed = ::tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937 rng(static_cast<uint32_t>(seed));
  for (int trial = 0; trial < 4; ++trial) {
    std::string dir = FreshDir("crash" + std::to_string(trial));
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    // Chosen before the fork: after committing round `target` the writer waits
    // to be killed, so on a fast machine it cannot race past the round the
    // kill is aimed at.
    const int target = 1 + static_cast<int>(rng() % 3);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // Never outlive the test, even if it fails before the kill.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(pipe_fds[0]);
      auto store = StateStore::Open(dir);
      if (!store.ok()) ::_exit(2);
      auto task = (*store)->UpsertTask("crash", nlohmann::json::object());
      if (!task.ok() || !(*store)->CommitInitialModel(MakeCheckpoint(*task, 0, dim)).ok()) {
        ::_exit(3);
      }
      for (int r = 1;; ++r) {
        auto round = (*store)->BeginRound(*task, r);
        if (!round.ok()) ::_exit(4);
        for (int p = 0; p < 20; ++p) {
          (void)(*store)->RecordParticipant(
              round->id, Participant("dev-" + std::to_string(p), ParticipantOutcome::kCompleted));
        }
        if (::write(pipe_fds[1], &r, sizeof(r)) != sizeof(r)) ::_exit(6);
        if (!(*store)
                 ->CommitRound(round->id, MakeCheckpoint(*task, r, dim), kPrivacy, {{"r", r}})
                 .ok()) {
          ::_exit(5);
        }
        if (r == target) {
          for (;;) ::pause();
        }
      }
    }
    ::close(pipe_fds[1]);
    int started = 0;
    while (started < target) {
      ASSERT_EQ(::read(pipe_fds[0], &started, sizeof(started)),
                static_cast<ssize_t>(sizeof(started)));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 60000));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    ::close(pipe_fds[0]);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "writer exited early with " << WEXITSTATUS(wstatus);

    auto store = StateStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    auto task = (*store)->UpsertTask("crash", nlohmann::json::object());
    ASSERT_TRUE(task.ok());
    auto rounds = (*store)->Rounds(*task);
    ASSERT_TRUE(rounds.ok());
    int64_t last_committed = 0;
    for (const RoundRecord& r : *rounds) {
      EXPECT_NE(r.status, RoundStatus::kInFlight);
      if (r.status == RoundStatus::kCommitted) {
        EXPECT_EQ(r.round_number, last_committed + 1);
        last_committed = r.round_number;
        EXPECT_EQ(r.metrics["r"], r.round_number);
      }
    }
    auto resume = (*store)->Resume(*task);
    ASSERT_TRUE(resume.ok()) << resume.status();
    EXPECT_TRUE(resume->refused.empty());
    // Killed inside the commit of round `target`: it either finished or not.
    EXPECT_TRUE(last_committed == target - 1 || last_committed == target) << last_committed;
    ASSERT_TRUE(resume->checkpoint.has_value());
    ExpectIsVersion(*resume->checkpoint, last_committed, dim);
    EXPECT_EQ(resume->next_round, last_committed + 1);
    for (int64_t v = std::max<int64_t>(0, last_committed - 2); v <= last_committed; ++v) {
      auto c = (*store)->LoadCheckpoint(*task, v);
      ASSERT_TRUE(c.ok()) << c.status();
      ExpectIsVersion(*c, v, dim);
    }
    // And the task continues.
    auto next = (*store)->BeginRound(*task, last_committed + 1);
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_TRUE(
        (*store)
            ->CommitRound(next->id, MakeCheckpoint(*task, last_committed + 1, dim), kPrivacy, {})
            .ok());
    std::cout << "trial " << trial << ": killed while committing round " << target << ", "
              << last_committed << " committed, " << (*store)->abandoned_on_open()
              << " abandoned in flight\n";
  }
}

}  // namespace
}  // namespace tacit::coordinator
