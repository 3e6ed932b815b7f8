// The typed privacy columns of committed rounds: written by CommitRound, and
// filled from the metrics JSON when a database written by schema 1 (the table
// layout below, created by hand as the old code did) is opened.

#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/sql/sql_db.h"
#include "coordinator/state_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tacit::coordinator {
namespace {

using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  std::string dir =
      ::testing::TempDir() + "/state_migration_" + name + "_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The schema-1 layout exactly as the first migration created it.
constexpr char kSchemaOne[] = R"sql(
CREATE TABLE tasks(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  config_json TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL);
CREATE TABLE rounds(
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  round_number INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('in_flight', 'committed', 'abandoned')),
  started_at_ms INTEGER NOT NULL,
  ended_at_ms INTEGER NOT NULL DEFAULT 0,
  metrics_json TEXT NOT NULL DEFAULT '{}',
  note TEXT NOT NULL DEFAULT '',
  UNIQUE(task_id, round_number, attempt));
CREATE TABLE participants(
  round_id INTEGER NOT NULL REFERENCES rounds(id),
  device_id TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK(outcome IN ('selected', 'completed', 'dropped', 'rejected')),
  drop_phase TEXT NOT NULL DEFAULT '',
  drop_reason TEXT NOT NULL DEFAULT '',
  bytes_up INTEGER NOT NULL DEFAULT 0,
  bytes_down INTEGER NOT NULL DEFAULT 0,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY(round_id, device_id));
CREATE TABLE model_versions(
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  version INTEGER NOT NULL,
  round_id INTEGER REFERENCES rounds(id),
  checkpoint_path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'ok' CHECK(status IN ('ok', 'corrupt')),
  metrics_json TEXT NOT NULL DEFAULT '{}',
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY(task_id, version));
PRAGMA user_version = 1;
INSERT INTO tasks(id, name, config_json, created_at_ms) VALUES(1, 'old-task', '{}', 1);
)sql";

// Writes a schema-1 state.db in `dir` with task 1 and the given rounds
// (round_number, status, metrics_json).
void WriteSchemaOne(const std::string& dir,
                    const std::vector<std::tuple<int, std::string, std::string>>& rounds) {
  auto db = SqlDb::Open(dir + "/state.db");
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec(kSchemaOne).ok());
  int attempt = 0;
  for (const auto& [number, status, metrics] : rounds) {
    auto insert = (*db)->Prepare(
        "INSERT INTO rounds(task_id, round_number, attempt, status, started_at_ms, metrics_json) "
        "VALUES(1, ?1, ?2, ?3, 5, ?4)");
    ASSERT_TRUE(insert.ok()) << insert.status();
    ASSERT_TRUE(insert->Bind(1, int64_t{number})
                    .Bind(2, int64_t{++attempt})
                    .Bind(3, status)
                    .Bind(4, metrics)
                    .Run()
                    .ok());
  }
}

int SchemaVersionOf(const std::string& dir) {
  auto db = SqlDb::Open(dir + "/state.db");
  EXPECT_TRUE(db.ok()) << db.status();
  auto q = (*db)->Prepare("PRAGMA user_version");
  EXPECT_TRUE(q.ok() && *q->Step());
  return static_cast<int>(q->Int(0));
}

TEST(StateStoreMigration, FillsCohortSizesOfCommittedRoundsFromTheirMetrics) {
  std::string dir = FreshDir("backfill");
  WriteSchemaOne(dir, {{1, "committed", R"({"cohort_size": 5, "epsilon": 0.5})"},
                       {2, "abandoned", "{}"},
                       {2, "committed", R"({"cohort_size": 7})"}});
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  auto rounds = (*store)->Rounds(1);
  ASSERT_TRUE(rounds.ok()) << rounds.status();
  ASSERT_EQ(rounds->size(), 3u);
  EXPECT_EQ((*rounds)[0].cohort_size, 5);
  EXPECT_FALSE((*rounds)[1].cohort_size.has_value());  // abandoned: nothing composed
  EXPECT_EQ((*rounds)[2].cohort_size, 7);
  // Schema 1 never recorded the population: it stays unknown, not guessed.
  for (const RoundRecord& r : *rounds) EXPECT_FALSE(r.population.has_value());
  store->reset();
  EXPECT_EQ(SchemaVersionOf(dir), StateStore::kSchemaVersion);
  std::filesystem::remove_all(dir);
}

TEST(StateStoreMigration, RefusesACommittedRoundWithoutCohortSizeAndChangesNothing) {
  for (const std::string& metrics :
       {std::string("{}"), std::string(R"({"cohort_size": "5"})"),
        std::string(R"({"cohort_size": 0})"), std::string("not json")}) {
    std::string dir = FreshDir("refuse");
    WriteSchemaOne(dir, {{1, "committed", R"({"cohort_size": 3})"}, {2, "committed", metrics}});
    auto store = StateStore::Open(dir);
    ASSERT_FALSE(store.ok()) << metrics;
    EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(store.status().message(), HasSubstr("committed round 2 of task 'old-task'"));
    EXPECT_THAT(store.status().message(), HasSubstr("cohort_size"));
    // The migration rolled back: still schema 1, without the new columns.
    EXPECT_EQ(SchemaVersionOf(dir), 1);
    auto db = SqlDb::Open(dir + "/state.db");
    ASSERT_TRUE(db.ok());
    EXPECT_FALSE((*db)->Prepare("SELECT cohort_size FROM rounds").ok());
    db->reset();
    std::filesystem::remove_all(dir);
  }
}

TEST(StateStoreMigration, CommitRoundStoresPrivacyFactsAndRefusesImpossibleOnes) {
  std::string dir = FreshDir("commit");
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  auto task = (*store)->UpsertTask("t", nlohmann::json::object());
  ASSERT_TRUE(task.ok());
  Checkpoint initial{*task, 0, {1.f, 2.f}, "opt"};
  ASSERT_TRUE((*store)->CommitInitialModel(initial).ok());
  auto round = (*store)->BeginRound(*task, 1);
  ASSERT_TRUE(round.ok());
  Checkpoint next{*task, 1, {3.f, 4.f}, "opt"};
  for (RoundPrivacy bad : {RoundPrivacy{0, 10}, RoundPrivacy{3, 0}, RoundPrivacy{-1, -1}}) {
    auto refused = (*store)->CommitRound(round->id, next, bad, {});
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  }
  auto rounds = (*store)->Rounds(*task);
  ASSERT_TRUE(rounds.ok());
  EXPECT_EQ(rounds->at(0).status, RoundStatus::kInFlight);  // refusals changed nothing
  // A population below the cohort is sampling rate 1, not an error.
  ASSERT_TRUE((*store)->CommitRound(round->id, next, RoundPrivacy{4, 2}, {}).ok());
  rounds = (*store)->Rounds(*task);
  ASSERT_TRUE(rounds.ok());
  EXPECT_EQ(rounds->at(0).status, RoundStatus::kCommitted);
  EXPECT_EQ(rounds->at(0).cohort_size, 4);
  EXPECT_EQ(rounds->at(0).population, 2);
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tacit::coordinator
