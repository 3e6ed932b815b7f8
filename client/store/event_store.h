#pragma once

// The encrypted local store of filtered events (SQLCipher: every database
// page, the WAL included, is AES-256 encrypted and authenticated). One row per
// event: time, kind, and the event's compact encoding (common/event_codec.h).
// Bounded by a retention window, inspectable and erasable by its owner.
// Crash safety: WAL journaling; a transaction is either all there after a
// crash or not at all, and earlier data is never touched by a later write.

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/store/key_file.h"
#include "common/event.h"

namespace tacit {

class SqlDb;
class SqlStatement;
class SqlTransaction;

// [begin_ms, end_ms)
struct TimeRange {
  int64_t begin_ms = std::numeric_limits<int64_t>::min();
  int64_t end_ms = std::numeric_limits<int64_t>::max();
};

// Beside the store, written by `tacit-client generate-activity`
// (client/synthetic_activity.h): the store holds generated events. It
// describes the store's content, so it goes whenever all events go
// (erase_store.h).
inline constexpr const char* kSyntheticMarkerFile = "synthetic.json";

struct KindDayCount {
  std::string day;  // "2026-01-05", a day of the laptop's own calendar (local time, TZ)
  EventKind kind;
  int64_t count;
};

struct StoreSummary {
  int64_t events = 0;
  int64_t first_ms = 0, last_ms = 0;  // 0 when empty
  int64_t bytes_on_disk = 0;          // database + WAL
  int retention_days = 0;
  std::vector<KindDayCount> counts;
};

class EventStore {
 public:
  static constexpr int kDefaultRetentionDays = 30;
  static constexpr const char* kDatabaseFile = "events.db";
  static constexpr const char* kKeyFile = "store.key";

  // Opens (creating if needed) the store at `db_path` with `key`. A wrong key
  // or a file that is not a tacit store is PermissionDenied with what to do.
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(const std::string& db_path,
                                                          const SecretKey& key);
  // <dir>/events.db with the key in <dir>/store.key (created 0600 on first use).
  static absl::StatusOr<std::unique_ptr<EventStore>> OpenInDirectory(const std::string& dir);

  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Appends in one transaction: all of `events` are stored or none.
  absl::Status Append(const std::vector<Event>& events);

  // Streaming appends: events go into an open transaction; Commit() makes
  // them durable and opens the next one; destroying an uncommitted Writer
  // rolls its events back (earlier commits stay). One Writer at a time.
  class Writer {
   public:
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    absl::Status Add(const Event& event);
    absl::Status Commit();
    int64_t pending() const { return pending_; }

   private:
    friend class EventStore;
    explicit Writer(EventStore* store);
    EventStore* store_;
    std::string buffer_;
    int64_t pending_ = 0;
    std::unique_ptr<SqlTransaction> transaction_;  // null between commits
  };
  absl::StatusOr<std::unique_ptr<Writer>> StartWriter();

  // Events in `range` whose kind is in `kinds` (all kinds when empty), in
  // time order. DataLoss naming the row when a record does not decode.
  absl::Status ForEach(const TimeRange& range, const std::vector<EventKind>& kinds,
                       const std::function<absl::Status(const Event&)>& visit);
  absl::StatusOr<std::vector<Event>> Read(const TimeRange& range,
                                          const std::vector<EventKind>& kinds = {});

  // Deletions return how many events went. The freed pages are overwritten
  // (secure_delete) and the WAL is checkpointed and truncated.
  absl::StatusOr<int64_t> EraseAll();
  absl::StatusOr<int64_t> EraseRange(const TimeRange& range);
  // Deletes events older than retention_days before `now_ms`.
  absl::StatusOr<int64_t> EnforceRetention(int64_t now_ms);

  int retention_days() const { return retention_days_; }
  absl::Status SetRetentionDays(int days);  // 1..3650, persisted in the store

  absl::StatusOr<StoreSummary> Summary();
  const std::string& path() const { return path_; }

 private:
  EventStore(std::unique_ptr<SqlDb> db, std::string path);
  absl::Status Initialize();
  absl::StatusOr<int64_t> Delete(const TimeRange& range);

  std::unique_ptr<SqlDb> db_;
  std::string path_;
  std::unique_ptr<SqlStatement> insert_;
  int retention_days_ = kDefaultRetentionDays;
  bool writer_active_ = false;
};

}  // namespace tacit
