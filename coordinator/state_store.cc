#include "coordinator/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/sql/sql_db.h"
#include "common/status_macros.h"

namespace tacit::coordinator {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// BackfillCohortSizes below: a schema-1 committed round's cohort size from
// its metrics JSON, the only place schema 1 kept it.
absl::Status BackfillCohortSizes(SqlDb& db);

// kMigrations[i] takes the schema from version i to i + 1: its SQL, then its
// data step (may be null). Append only.
struct Migration {
  const char* sql;
  absl::Status (*backfill)(SqlDb& db);
};
const Migration kMigrations[] = {
    {R"sql(
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
)sql",
     nullptr},
    // Schema 2: the privacy facts of a committed round in typed columns, so a
    // restart re-composes epsilon without reading JSON.
    {R"sql(
ALTER TABLE rounds ADD COLUMN cohort_size INTEGER CHECK(cohort_size IS NULL OR cohort_size > 0);
ALTER TABLE rounds ADD COLUMN population INTEGER CHECK(population IS NULL OR population > 0);
)sql",
     &BackfillCohortSizes},
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == StateStore::kSchemaVersion);

RoundStatus ParseRoundStatus(const std::string& s) {
  if (s == "committed") return RoundStatus::kCommitted;
  if (s == "abandoned") return RoundStatus::kAbandoned;
  return RoundStatus::kInFlight;
}

ParticipantOutcome ParseOutcome(const std::string& s) {
  if (s == "completed") return ParticipantOutcome::kCompleted;
  if (s == "dropped") return ParticipantOutcome::kDropped;
  if (s == "rejected") return ParticipantOutcome::kRejected;
  return ParticipantOutcome::kSelected;
}

nlohmann::json ParseJsonOrEmpty(const std::string& text) {
  absl::StatusOr<nlohmann::json> j = ParseJson(text, "stored metrics");
  return j.ok() ? *std::move(j) : nlohmann::json::object();
}

constexpr char kRoundColumns[] =
    "id, task_id, round_number, attempt, status, started_at_ms, ended_at_ms, metrics_json, note, "
    "cohort_size, population";

RoundRecord ReadRound(const SqlStatement& s) {
  RoundRecord r;
  r.id = s.Int(0);
  r.task_id = s.Int(1);
  r.round_number = s.Int(2);
  r.attempt = static_cast<int>(s.Int(3));
  r.status = ParseRoundStatus(s.Text(4));
  r.started_at_ms = s.Int(5);
  r.ended_at_ms = s.Int(6);
  r.metrics = ParseJsonOrEmpty(s.Text(7));
  r.note = s.Text(8);
  if (!s.IsNull(9)) r.cohort_size = static_cast<int>(s.Int(9));
  if (!s.IsNull(10)) r.population = s.Int(10);
  return r;
}

absl::Status BackfillCohortSizes(SqlDb& db) {
  TACIT_ASSIGN_OR_RETURN(
      SqlStatement q,
      db.Prepare("SELECT rounds.id, rounds.round_number, IFNULL(tasks.name, ''), "
                 "rounds.metrics_json FROM rounds LEFT JOIN tasks ON tasks.id = rounds.task_id "
                 "WHERE rounds.status = 'committed' ORDER BY rounds.id"));
  std::vector<std::pair<int64_t, int64_t>> sizes;  // round id, cohort size
  while (true) {
    TACIT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    const nlohmann::json metrics = ParseJsonOrEmpty(q.Text(3));
    const nlohmann::json* size = nullptr;
    if (metrics.is_object() && metrics.contains("cohort_size")) size = &metrics["cohort_size"];
    if (size == nullptr || !size->is_number_integer() || size->get<int64_t>() < 1 ||
        size->get<int64_t>() > std::numeric_limits<int>::max()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot migrate the state to schema 2: committed round ", q.Int(1), " of task '",
          q.Text(2), "' (round id ", q.Int(0), ") has no valid cohort_size in its metrics (",
          size == nullptr ? "missing" : size->dump(),
          "), so its privacy cost cannot be re-composed; the state is unchanged. Restore the "
          "state folder from a backup, or start the task under a new name in a new "
          "--state-dir"));
    }
    sizes.emplace_back(q.Int(0), size->get<int64_t>());
  }
  TACIT_ASSIGN_OR_RETURN(SqlStatement u,
                         db.Prepare("UPDATE rounds SET cohort_size = ?2 WHERE id = ?1"));
  for (const auto& [id, size] : sizes) {
    TACIT_RETURN_IF_ERROR(u.Bind(1, id).Bind(2, size).Run());
    u.Reset();
  }
  return absl::OkStatus();
}

}  // namespace

const char* RoundStatusName(RoundStatus status) {
  switch (status) {
    case RoundStatus::kCommitted:
      return "committed";
    case RoundStatus::kAbandoned:
      return "abandoned";
    case RoundStatus::kInFlight:
      break;
  }
  return "in_flight";
}

const char* ParticipantOutcomeName(ParticipantOutcome outcome) {
  switch (outcome) {
    case ParticipantOutcome::kCompleted:
      return "completed";
    case ParticipantOutcome::kDropped:
      return "dropped";
    case ParticipantOutcome::kRejected:
      return "rejected";
    case ParticipantOutcome::kSelected:
      break;
  }
  return "selected";
}

StateStore::StateStore(std::string dir, StateStoreOptions options, std::unique_ptr<SqlDb> db,
                       int lock_fd)
    : dir_(std::move(dir)), options_(options), db_(std::move(db)), lock_fd_(lock_fd) {}

StateStore::~StateStore() {
  db_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& dir,
                                                             StateStoreOptions options) {
  if (options.keep_checkpoints < 2) {
    return absl::InvalidArgumentError(
        "keep_checkpoints must be at least 2 so a corrupt checkpoint has a fallback");
  }
  TACIT_RETURN_IF_ERROR(MakeDirectories(dir + "/checkpoints", 0700));
  std::string lock_path = dir + "/LOCK";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create lock file ", lock_path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("state folder ", dir, " is in use by another tacit-coordinator (", lock_path,
                     " is locked); stop it or use another --state-dir"));
  }
  absl::StatusOr<std::unique_ptr<SqlDb>> db = SqlDb::Open(dir + "/state.db");
  if (!db.ok()) {
    ::close(fd);
    return db.status();
  }
  std::unique_ptr<StateStore> store(new StateStore(dir, options, std::move(*db), fd));
  TACIT_RETURN_IF_ERROR(store->Migrate());
  TACIT_RETURN_IF_ERROR(store->AbandonInFlight());
  return store;
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::OpenForReading(const std::string& dir) {
  const std::string path = dir + "/state.db";
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(
        absl::StrCat("no coordinator state in ", dir, " (", path,
                     " is missing); give the folder `tacit-coordinator serve --state` uses"));
  }
  SqlDbOptions read_only;
  read_only.description = "coordinator state database";
  read_only.read_only = true;
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<SqlDb> db, SqlDb::Open(path, read_only));
  std::unique_ptr<StateStore> store(new StateStore(dir, StateStoreOptions{}, std::move(db), -1));
  TACIT_ASSIGN_OR_RETURN(SqlStatement q, store->db_->Prepare("PRAGMA user_version"));
  TACIT_ASSIGN_OR_RETURN(bool row, q.Step());
  const int version = row ? static_cast<int>(q.Int(0)) : 0;
  if (version != kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " has schema version ", version, "; this build reads version ", kSchemaVersion,
        ": run this build's `tacit-coordinator serve` on it once (it "
        "migrates the state), or a matching tacit-coordinator status"));
  }
  return store;
}

absl::StatusOr<std::vector<StateStore::TaskRecord>> StateStore::Tasks() {
  std::lock_guard<std::mutex> lock(mu_);
  TACIT_ASSIGN_OR_RETURN(
      SqlStatement q,
      db_->Prepare("SELECT id, name, config_json, created_at_ms FROM tasks ORDER BY id"));
  std::vector<TaskRecord> out;
  while (true) {
    TACIT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back({q.Int(0), q.Text(1), ParseJsonOrEmpty(q.Text(2)), q.Int(3)});
  }
}

absl::Status StateStore::Migrate() {
  TACIT_ASSIGN_OR_RETURN(SqlStatement q, db_->Prepare("PRAGMA user_version"));
  TACIT_ASSIGN_OR_RETURN(bool row, q.Step());
  int version = row ? static_cast<int>(q.Int(0)) : 0;
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir_, "/state.db has schema version ", version, " but this build knows up to ",
                     kSchemaVersion, "; run a newer tacit-coordinator"));
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    absl::Status transaction = db_->Transaction([&]() -> absl::Status {
      TACIT_RETURN_IF_ERROR(db_->Exec(kMigrations[v].sql));
      if (kMigrations[v].backfill != nullptr) {
        TACIT_RETURN_IF_ERROR(kMigrations[v].backfill(*db_));
      }
      return db_->Exec(absl::StrCat("PRAGMA user_version = ", v + 1));
    });
    TACIT_RETURN_IF_ERROR(transaction);
  }
  return absl::OkStatus();
}

absl::Status StateStore::AbandonInFlight() {
  TACIT_ASSIGN_OR_RETURN(
      SqlStatement s,
      db_->Prepare("UPDATE rounds SET status = 'abandoned', ended_at_ms = ?1, note = "
                   "'coordinator restarted while the round was in flight' "
                   "WHERE status = 'in_flight'"));
  TACIT_RETURN_IF_ERROR(s.Bind(1, NowMs()).Run());
  abandoned_on_open_ = db_->Changes();
  return absl::OkStatus();
}

absl::StatusOr<int64_t> StateStore::UpsertTask(
    const std::string& name, const nlohmann::json& config,
    const std::function<absl::Status(const nlohmann::json& stored)>& accept_change, bool* created) {
  std::lock_guard<std::mutex> lock(mu_);
  if (created) *created = false;
  TACIT_ASSIGN_OR_RETURN(SqlStatement q,
                         db_->Prepare("SELECT id, config_json FROM tasks WHERE name = ?1"));
  TACIT_ASSIGN_OR_RETURN(bool found, q.Bind(1, name).Step());
  if (found) {
    const int64_t id = q.Int(0);
    const nlohmann::json stored = ParseJsonOrEmpty(q.Text(1));
    if (stored == config) return id;
    if (!accept_change) {
      return absl::FailedPreconditionError(absl::StrCat(
          "task '", name,
          "' already exists in the state with a different config; rename the task to start a "
          "new one, or restore the original config to resume it"));
    }
    if (absl::Status accepted = accept_change(stored); !accepted.ok()) {
      return absl::Status(accepted.code(), absl::StrCat("task '", name,
                                                        "' already exists in the state with a "
                                                        "different config: ",
                                                        accepted.message()));
    }
    TACIT_ASSIGN_OR_RETURN(SqlStatement update,
                           db_->Prepare("UPDATE tasks SET config_json = ?1 WHERE id = ?2"));
    TACIT_RETURN_IF_ERROR(update.Bind(1, config.dump()).Bind(2, id).Run());
    return id;
  }
  TACIT_ASSIGN_OR_RETURN(
      SqlStatement ins,
      db_->Prepare("INSERT INTO tasks(name, config_json, created_at_ms) VALUES(?1, ?2, ?3)"));
  TACIT_RETURN_IF_ERROR(ins.Bind(1, name).Bind(2, config.dump()).Bind(3, NowMs()).Run());
  if (created) *created = true;
  return db_->LastInsertRowId();
}

std::string StateStore::CheckpointPath(int64_t task_id, int64_t version) const {
  return absl::StrCat("checkpoints/task-", task_id, "/v", version, ".ckpt");
}

absl::StatusOr<ModelVersionRecord> StateStore::WriteVersion(const Checkpoint& checkpoint,
                                                            int64_t round_id,
                                                            const nlohmann::json& metrics) {
  ModelVersionRecord rec;
  rec.task_id = checkpoint.task_id;
  rec.version = checkpoint.version;
  rec.round_id = round_id;
  rec.checkpoint_path = CheckpointPath(checkpoint.task_id, checkpoint.version);
  rec.metrics = metrics;
  rec.created_at_ms = NowMs();
  TACIT_RETURN_IF_ERROR(
      MakeDirectories(absl::StrCat(dir_, "/checkpoints/task-", checkpoint.task_id), 0700));
  TACIT_ASSIGN_OR_RETURN(rec.sha256_hex,
                         WriteCheckpointFile(dir_ + "/" + rec.checkpoint_path, checkpoint));
  return rec;
}

namespace {

absl::Status InsertVersion(SqlDb& db, const ModelVersionRecord& rec) {
  TACIT_ASSIGN_OR_RETURN(
      SqlStatement s,
      db.Prepare("INSERT OR REPLACE INTO model_versions(task_id, version, round_id, "
                 "checkpoint_path, sha256, status, metrics_json, created_at_ms) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, 'ok', ?6, ?7)"));
  s.Bind(1, rec.task_id).Bind(2, rec.version);
  if (rec.round_id == 0) {
    s.BindNull(3);
  } else {
    s.Bind(3, rec.round_id);
  }
  return s.Bind(4, rec.checkpoint_path)
      .Bind(5, rec.sha256_hex)
      .Bind(6, rec.metrics.dump())
      .Bind(7, rec.created_at_ms)
      .Run();
}

}  // namespace

absl::StatusOr<ModelVersionRecord> StateStore::CommitInitialModel(const Checkpoint& checkpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  if (checkpoint.version != 0) {
    return absl::InvalidArgumentError("the initial model must have version 0");
  }
  TACIT_ASSIGN_OR_RETURN(ModelVersionRecord rec,
                         WriteVersion(checkpoint, 0, nlohmann::json::object()));
  absl::Status transaction = db_->Transaction([&] { return InsertVersion(*db_, rec); });
  TACIT_RETURN_IF_ERROR(transaction);
  return rec;
}

absl::StatusOr<RoundRecord> StateStore::BeginRound(int64_t task_id, int64_t round_number) {
  std::lock_guard<std::mutex> lock(mu_);
  RoundRecord round;
  absl::Status transaction = db_->Transaction([&]() -> absl::Status {
    TACIT_ASSIGN_OR_RETURN(
        SqlStatement q,
        db_->Prepare("SELECT COUNT(*), SUM(status = 'in_flight'), SUM(status = 'committed' AND "
                     "round_number = ?2), SUM(round_number = ?2) FROM rounds WHERE task_id = ?1"));
    TACIT_RETURN_IF_ERROR(q.Bind(1, task_id).Bind(2, round_number).Step().status());
    if (q.Int(1) > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "task ", task_id, " already has a round in flight; commit or abandon it first"));
    }
    if (q.Int(2) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("round ", round_number, " of task ", task_id, " is already committed"));
    }
    round.task_id = task_id;
    round.round_number = round_number;
    round.attempt = static_cast<int>(q.Int(3)) + 1;
    round.started_at_ms = NowMs();
    TACIT_ASSIGN_OR_RETURN(
        SqlStatement ins,
        db_->Prepare("INSERT INTO rounds(task_id, round_number, attempt, status, started_at_ms) "
                     "VALUES(?1, ?2, ?3, 'in_flight', ?4)"));
    TACIT_RETURN_IF_ERROR(ins.Bind(1, task_id)
                              .Bind(2, round_number)
                              .Bind(3, int64_t{round.attempt})
                              .Bind(4, round.started_at_ms)
                              .Run());
    round.id = db_->LastInsertRowId();
    return absl::OkStatus();
  });
  TACIT_RETURN_IF_ERROR(transaction);
  return round;
}

absl::Status StateStore::RecordParticipant(int64_t round_id, const ParticipantRecord& p) {
  return RecordParticipants(round_id, {p});
}

absl::Status StateStore::RecordParticipants(int64_t round_id,
                                            const std::vector<ParticipantRecord>& participants) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status transaction = db_->Transaction([&]() -> absl::Status {
    TACIT_ASSIGN_OR_RETURN(
        SqlStatement s,
        db_->Prepare("INSERT OR REPLACE INTO participants(round_id, device_id, outcome, "
                     "drop_phase, drop_reason, bytes_up, bytes_down, updated_at_ms) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    const int64_t now = NowMs();
    for (const ParticipantRecord& p : participants) {
      TACIT_RETURN_IF_ERROR(s.Bind(1, round_id)
                                .Bind(2, p.device_id)
                                .Bind(3, std::string(ParticipantOutcomeName(p.outcome)))
                                .Bind(4, p.drop_phase)
                                .Bind(5, p.drop_reason)
                                .Bind(6, p.bytes_up)
                                .Bind(7, p.bytes_down)
                                .Bind(8, now)
                                .Run());
      s.Reset();
    }
    return absl::OkStatus();
  });
  return transaction;
}

absl::Status StateStore::AbandonRound(int64_t round_id, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  TACIT_ASSIGN_OR_RETURN(SqlStatement s,
                         db_->Prepare("UPDATE rounds SET status = 'abandoned', ended_at_ms = ?2, "
                                      "note = ?3 WHERE id = ?1 AND status = 'in_flight'"));
  TACIT_RETURN_IF_ERROR(s.Bind(1, round_id).Bind(2, NowMs()).Bind(3, reason).Run());
  if (db_->Changes() != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("round ", round_id,
                     " is not in flight; only an in-flight round can be "
                     "abandoned"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelVersionRecord> StateStore::CommitRound(int64_t round_id,
                                                           const Checkpoint& checkpoint,
                                                           const RoundPrivacy& privacy,
                                                           const nlohmann::json& metrics) {
  if (privacy.cohort_size < 1 || privacy.population < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("round ", round_id, " cannot commit with cohort size ", privacy.cohort_size,
                     " out of a population of ", privacy.population, ": both must be at least 1"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  TACIT_ASSIGN_OR_RETURN(SqlStatement q, db_->Prepare(absl::StrCat("SELECT ", kRoundColumns,
                                                                   " FROM rounds WHERE id = ?1")));
  TACIT_ASSIGN_OR_RETURN(bool found, q.Bind(1, round_id).Step());
  if (!found) return absl::NotFoundError(absl::StrCat("no round with id ", round_id));
  RoundRecord round = ReadRound(q);
  if (round.status != RoundStatus::kInFlight) {
    return absl::FailedPreconditionError(absl::StrCat("round ", round_id, " is ",
                                                      RoundStatusName(round.status),
                                                      ", only an in-flight round can commit"));
  }
  if (checkpoint.task_id != round.task_id || checkpoint.version != round.round_number) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint (task ", checkpoint.task_id, ", version ", checkpoint.version,
                     ") does not belong to round ", round.round_number, " of task ", round.task_id,
                     "; committing round r produces version r"));
  }
  // The file first: once the SQL commit says "committed" the file is durable.
  TACIT_ASSIGN_OR_RETURN(ModelVersionRecord rec, WriteVersion(checkpoint, round_id, metrics));
  absl::Status transaction = db_->Transaction([&]() -> absl::Status {
    TACIT_ASSIGN_OR_RETURN(
        SqlStatement u,
        db_->Prepare("UPDATE rounds SET status = 'committed', ended_at_ms = ?2, metrics_json = ?3, "
                     "cohort_size = ?4, population = ?5 WHERE id = ?1 AND status = 'in_flight'"));
    TACIT_RETURN_IF_ERROR(u.Bind(1, round_id)
                              .Bind(2, NowMs())
                              .Bind(3, metrics.dump())
                              .Bind(4, int64_t{privacy.cohort_size})
                              .Bind(5, privacy.population)
                              .Run());
    if (db_->Changes() != 1) {
      return absl::AbortedError(absl::StrCat("round ", round_id, " left the in-flight state"));
    }
    return InsertVersion(*db_, rec);
  });
  TACIT_RETURN_IF_ERROR(transaction);
  TACIT_RETURN_IF_ERROR(PruneCheckpoints(round.task_id));
  return rec;
}

absl::Status StateStore::PruneCheckpoints(int64_t task_id) {
  TACIT_ASSIGN_OR_RETURN(
      SqlStatement q,
      db_->Prepare("SELECT version, checkpoint_path FROM model_versions WHERE task_id = ?1 AND "
                   "status = 'ok' AND checkpoint_path != '' ORDER BY version DESC"));
  q.Bind(1, task_id);
  std::vector<std::pair<int64_t, std::string>> old;
  for (int kept = 0;;) {
    TACIT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (++kept > options_.keep_checkpoints) old.emplace_back(q.Int(0), q.Text(1));
  }
  for (const auto& [version, path] : old) {
    TACIT_ASSIGN_OR_RETURN(SqlStatement u,
                           db_->Prepare("UPDATE model_versions SET checkpoint_path = '' WHERE "
                                        "task_id = ?1 AND version = ?2"));
    TACIT_RETURN_IF_ERROR(u.Bind(1, task_id).Bind(2, version).Run());
    ::unlink((dir_ + "/" + path).c_str());  // the row no longer points at it
  }
  return absl::OkStatus();
}

absl::StatusOr<ResumePoint> StateStore::Resume(int64_t task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ResumePoint resume;
  bool lost_committed_rounds = false;
  TACIT_ASSIGN_OR_RETURN(std::vector<ModelVersionRecord> versions, ModelVersionsLocked(task_id));
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (it->checkpoint_path.empty()) {  // pruned: nothing older is on disk
      lost_committed_rounds = true;
      break;
    }
    absl::StatusOr<Checkpoint> c =
        ReadCheckpointFile(dir_ + "/" + it->checkpoint_path, it->sha256_hex);
    if (c.ok() && (c->task_id != task_id || c->version != it->version)) {
      c = absl::DataLossError(absl::StrCat(it->checkpoint_path, " holds task ", c->task_id,
                                           " version ", c->version, ", not what its row says"));
    }
    if (c.ok()) {
      resume.next_round = c->version + 1;
      resume.checkpoint = std::move(*c);
      break;
    }
    if (c.status().code() != absl::StatusCode::kDataLoss &&
        c.status().code() != absl::StatusCode::kNotFound) {
      // Unreadable is not corrupt (permissions, I/O): change nothing and
      // let the operator fix it rather than roll back committed rounds.
      return absl::Status(c.status().code(),
                          absl::StrCat("cannot read checkpoint ", it->checkpoint_path, ": ",
                                       c.status().message(), "; fix it and restart"));
    }
    resume.refused.push_back(std::string(c.status().message()));
    lost_committed_rounds = lost_committed_rounds || it->version > 0;
    // The round that produced this version can no longer be built on: mark it
    // abandoned so it is retried from the previous version.
    std::string note =
        absl::StrCat("checkpoint v", it->version, " refused on resume: ", c.status().message());
    absl::Status transaction = db_->Transaction([&]() -> absl::Status {
      TACIT_ASSIGN_OR_RETURN(SqlStatement m,
                             db_->Prepare("UPDATE model_versions SET status = 'corrupt' WHERE "
                                          "task_id = ?1 AND version = ?2"));
      TACIT_RETURN_IF_ERROR(m.Bind(1, task_id).Bind(2, it->version).Run());
      TACIT_ASSIGN_OR_RETURN(SqlStatement r, db_->Prepare("UPDATE rounds SET status = "
                                                          "'abandoned', note = ?2 WHERE id = ?1"));
      return r.Bind(1, it->round_id).Bind(2, note).Run();
    });
    TACIT_RETURN_IF_ERROR(transaction);
  }
  if (!resume.checkpoint && lost_committed_rounds) {
    // Starting from scratch would silently drop committed rounds.
    return absl::DataLossError(
        absl::StrCat("task ", task_id, " has committed rounds but no intact checkpoint is left (",
                     absl::StrJoin(resume.refused, "; "), "); restore ", dir_,
                     "/checkpoints from a backup or start the task under a new name"));
  }
  return resume;
}

absl::StatusOr<std::vector<RoundRecord>> StateStore::Rounds(int64_t task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TACIT_ASSIGN_OR_RETURN(SqlStatement q,
                         db_->Prepare(absl::StrCat("SELECT ", kRoundColumns,
                                                   " FROM rounds WHERE task_id = ?1 ORDER BY id")));
  q.Bind(1, task_id);
  std::vector<RoundRecord> out;
  while (true) {
    TACIT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(ReadRound(q));
  }
}

absl::StatusOr<std::vector<ParticipantRecord>> StateStore::Participants(int64_t round_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TACIT_ASSIGN_OR_RETURN(
      SqlStatement q,
      db_->Prepare("SELECT device_id, outcome, drop_phase, drop_reason, bytes_up, bytes_down "
                   "FROM participants WHERE round_id = ?1 ORDER BY device_id"));
  q.Bind(1, round_id);
  std::vector<ParticipantRecord> out;
  while (true) {
    TACIT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back({q.Text(0), ParseOutcome(q.Text(1)), q.Text(2), q.Text(3), q.Int(4), q.Int(5)});
  }
}

absl::StatusOr<std::vector<ModelVersionRecord>> StateStore::ModelVersions(int64_t task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return ModelVersionsLocked(task_id);
}

absl::StatusOr<std::vector<ModelVersionRecord>> StateStore::ModelVersionsLocked(int64_t task_id) {
  TACIT_ASSIGN_OR_RETURN(
      SqlStatement q,
      db_->Prepare("SELECT version, IFNULL(round_id, 0), checkpoint_path, sha256, metrics_json, "
                   "created_at_ms FROM model_versions WHERE task_id = ?1 AND status = 'ok' "
                   "ORDER BY version"));
  q.Bind(1, task_id);
  std::vector<ModelVersionRecord> out;
  while (true) {
    TACIT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(
        {task_id, q.Int(0), q.Int(1), q.Text(2), q.Text(3), ParseJsonOrEmpty(q.Text(4)), q.Int(5)});
  }
}

absl::StatusOr<Checkpoint> StateStore::LoadCheckpoint(int64_t task_id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  TACIT_ASSIGN_OR_RETURN(std::vector<ModelVersionRecord> versions, ModelVersionsLocked(task_id));
  for (const ModelVersionRecord& v : versions) {
    if (v.version != version) continue;
    if (v.checkpoint_path.empty()) {
      return absl::NotFoundError(
          absl::StrCat("checkpoint v", version, " of task ", task_id, " was pruned"));
    }
    return ReadCheckpointFile(dir_ + "/" + v.checkpoint_path, v.sha256_hex);
  }
  return absl::NotFoundError(absl::StrCat("task ", task_id, " has no model version ", version));
}

}  // namespace tacit::coordinator
