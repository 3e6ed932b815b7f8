#pragma once

// The coordinator's durable state in one folder:
//   STATE_DIR/state.db                     SQLCipher database (unkeyed)
//   STATE_DIR/checkpoints/task-<id>/v<N>.ckpt   global model + optimizer state
//   STATE_DIR/LOCK                         flock: one coordinator per folder
// Tables: tasks, rounds (in_flight | committed | abandoned, times, metrics,
// and for a committed round the typed facts its privacy cost was composed
// from: cohort_size, population), participants (outcome and drop reason per device and round),
// model_versions (checkpoint file, digest, metrics). The schema is versioned with PRAGMA
// user_version and migrated forward on open.
//
// Commit protocol: the checkpoint file is written atomically (fsync'ed)
// first, then one SQL transaction marks the round committed and records the
// model version. A crash between the two leaves an unreferenced file and an
// in-flight round; on open every in-flight round is marked abandoned, so a
// round is never half-applied.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coordinator/checkpoint.h"
#include "nlohmann/json.hpp"

namespace tacit {
class SqlDb;  // common/sql/sql_db.h
}  // namespace tacit

namespace tacit::coordinator {

enum class RoundStatus { kInFlight, kCommitted, kAbandoned };
const char* RoundStatusName(RoundStatus status);

enum class ParticipantOutcome { kSelected, kCompleted, kDropped, kRejected };
const char* ParticipantOutcomeName(ParticipantOutcome outcome);

struct RoundRecord {
  int64_t id = 0;
  int64_t task_id = 0;
  int64_t round_number = 0;  // 1-based; committing round r produces model version r
  int attempt = 1;           // > 1 when earlier attempts were abandoned
  RoundStatus status = RoundStatus::kInFlight;
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;  // 0 while in flight
  nlohmann::json metrics = nlohmann::json::object();
  std::string note;  // why a round was abandoned
  // Set once committed: what the privacy accountant composed for the round.
  std::optional<int> cohort_size;
  // The population the cohort was sampled from; unset for rounds committed
  // before schema version 2, which did not record it.
  std::optional<int64_t> population;
};

// What a committed round records for the privacy accounting; a restart
// re-composes epsilon from the count of committed rounds (each at the task's
// dp.AccountedSamplingRate(); cohort / population was the old, wrong rate).
struct RoundPrivacy {
  int cohort_size = 0;  // devices seated in the round, >= 1
  // Enrolled devices, >= 1, kept for the operator (a resume still refuses a
  // different --population).
  int64_t population = 0;
};

struct ParticipantRecord {
  std::string device_id;
  ParticipantOutcome outcome = ParticipantOutcome::kSelected;
  std::string drop_phase;   // e.g. "share_keys"; empty unless dropped/rejected
  std::string drop_reason;  // e.g. "deadline", "disconnected", "invalid message"
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
};

struct ModelVersionRecord {
  int64_t task_id = 0;
  int64_t version = 0;
  int64_t round_id = 0;         // 0 for the initial model
  std::string checkpoint_path;  // empty once pruned
  std::string sha256_hex;
  nlohmann::json metrics = nlohmann::json::object();
  int64_t created_at_ms = 0;
};

// Where a task continues after (re)start.
struct ResumePoint {
  std::optional<Checkpoint> checkpoint;  // latest valid one; none before the initial model
  int64_t next_round = 1;
  std::vector<std::string> refused;  // checkpoints refused as corrupt, with reasons
};

struct StateStoreOptions {
  int keep_checkpoints = 3;  // newest files kept for fallback; older ones deleted
};

// Thread-safe.
class StateStore {
 public:
  static constexpr int kSchemaVersion = 2;

  // Opens or creates the state folder, takes its lock, migrates the schema
  // and marks in-flight rounds abandoned ("coordinator restarted").
  // Migrating a schema-1 database fills each committed round's cohort_size
  // from its metrics JSON; when a round has none, Open fails naming it and
  // leaves the file unchanged.
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(const std::string& dir,
                                                          StateStoreOptions options = {});
  ~StateStore();

  // Opens an existing state folder for reading only (`tacit-coordinator
  // status`, also while a coordinator serves it): no lock, no migration, no
  // in-flight round touched. NotFound when the folder holds no state.db;
  // FailedPrecondition for a schema other than this build's. Only the
  // reading methods (Tasks, Rounds, Participants, ModelVersions) may be used.
  static absl::StatusOr<std::unique_ptr<StateStore>> OpenForReading(const std::string& dir);

  // Rounds found in flight (and abandoned) by Open.
  int abandoned_on_open() const { return abandoned_on_open_; }

  // Registers a task by name. Reopening with the same config returns the same
  // id; a different config under the same name is FailedPrecondition, unless
  // `accept_change(stored)` is OK (e.g. a config written before new sections
  // with defaults existed, or a task extended by more rounds): then the
  // stored config is replaced by `config` and the id returned. A refusal
  // from `accept_change` is returned with the task named. `*created` (when
  // given) says whether the task is new to the state.
  absl::StatusOr<int64_t> UpsertTask(
      const std::string& name, const nlohmann::json& config,
      const std::function<absl::Status(const nlohmann::json& stored)>& accept_change = nullptr,
      bool* created = nullptr);

  // Stores version 0 (the freshly initialized model) once per task.
  absl::StatusOr<ModelVersionRecord> CommitInitialModel(const Checkpoint& checkpoint);

  absl::StatusOr<RoundRecord> BeginRound(int64_t task_id, int64_t round_number);
  // Inserts or updates a device's row for the round (its latest outcome wins).
  absl::Status RecordParticipant(int64_t round_id, const ParticipantRecord& participant);
  // Many at once in one transaction (one fsync), e.g. at a phase deadline.
  absl::Status RecordParticipants(int64_t round_id,
                                  const std::vector<ParticipantRecord>& participants);
  absl::Status AbandonRound(int64_t round_id, const std::string& reason);
  // `checkpoint.version` must equal the round number and task must match;
  // `privacy` is stored in typed columns next to the free-form `metrics`.
  absl::StatusOr<ModelVersionRecord> CommitRound(int64_t round_id, const Checkpoint& checkpoint,
                                                 const RoundPrivacy& privacy,
                                                 const nlohmann::json& metrics);

  // Latest checkpoint that verifies; corrupt newer ones are refused (their
  // rounds become abandoned) and the previous one is used.
  absl::StatusOr<ResumePoint> Resume(int64_t task_id);

  struct TaskRecord {
    int64_t id = 0;
    std::string name;
    nlohmann::json config;
    int64_t created_at_ms = 0;
  };
  absl::StatusOr<std::vector<TaskRecord>> Tasks();  // oldest first
  absl::StatusOr<std::vector<RoundRecord>> Rounds(int64_t task_id);
  absl::StatusOr<std::vector<ParticipantRecord>> Participants(int64_t round_id);
  absl::StatusOr<std::vector<ModelVersionRecord>> ModelVersions(int64_t task_id);
  absl::StatusOr<Checkpoint> LoadCheckpoint(int64_t task_id, int64_t version);

 private:
  StateStore(std::string dir, StateStoreOptions options, std::unique_ptr<SqlDb> db, int lock_fd);
  absl::Status Migrate();
  absl::Status AbandonInFlight();
  std::string CheckpointPath(int64_t task_id, int64_t version) const;
  absl::StatusOr<ModelVersionRecord> WriteVersion(const Checkpoint& checkpoint, int64_t round_id,
                                                  const nlohmann::json& metrics);
  absl::Status PruneCheckpoints(int64_t task_id);
  absl::StatusOr<std::vector<ModelVersionRecord>> ModelVersionsLocked(int64_t task_id);

  // One SQL connection shared by all callers: every public method holds mu_,
  // so transactions from different threads never interleave.
  std::mutex mu_;
  std::string dir_;
  StateStoreOptions options_;
  std::unique_ptr<SqlDb> db_;
  int lock_fd_;
  int abandoned_on_open_ = 0;
};

}  // namespace tacit::coordinator
