#include "client/store/event_store.h"

#include <sys/stat.h>
#include <time.h>

#include <array>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/event_codec.h"
#include "common/file_io.h"
#include "common/sql/sql_db.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

constexpr int kStoreSchemaVersion = 1;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

std::string KindFilter(const std::vector<EventKind>& kinds) {
  if (kinds.empty()) return "";
  std::vector<int> values;
  for (EventKind k : kinds) values.push_back(static_cast<int>(k));
  return absl::StrCat(" AND kind IN (", absl::StrJoin(values, ","), ")");
}

// The calendar day on this laptop's clock (its time zone, TZ) holding
// `ms`: its name ("2026-01-05") and the milliseconds it spans. DST makes
// days 23 or 25 hours long; a zone whose midnight does not exist starts
// the day at the first time that does (mktime normalises forward).
struct LocalDaySpan {
  std::string name;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool Holds(int64_t ms) const { return ms >= start_ms && ms < end_ms; }
};

LocalDaySpan LocalDayOf(int64_t ms) {
  const int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const auto seconds = static_cast<time_t>(second);
  struct tm local {};
  localtime_r(&seconds, &local);
  char text[16];
  strftime(text, sizeof text, "%Y-%m-%d", &local);
  struct tm start = local;
  start.tm_hour = start.tm_min = start.tm_sec = 0;
  start.tm_isdst = -1;
  struct tm next = start;
  next.tm_mday += 1;
  const time_t start_s = mktime(&start);
  const time_t next_s = mktime(&next);
  LocalDaySpan span{text, static_cast<int64_t>(start_s) * 1000,
                    static_cast<int64_t>(next_s) * 1000};
  // Should libc fail to place the boundaries, the span is this second
  // alone: counts stay right, only the walk slows down.
  if (start_s == static_cast<time_t>(-1) || next_s == static_cast<time_t>(-1) || !span.Holds(ms)) {
    span.start_ms = second * 1000;
    span.end_ms = span.start_ms + 1000;
  }
  return span;
}

SqlDbOptions StoreOptions() {
  SqlDbOptions options;
  options.description = "event store";
  // WAL with NORMAL: a crash of the process loses nothing committed; a power
  // cut may lose the last commits, never corrupt earlier ones.
  options.synchronous = SqlSynchronous::kNormal;
  options.secure_delete = true;
  options.foreign_keys = false;
  options.file_mode = 0600;
  return options;
}

}  // namespace

EventStore::EventStore(std::unique_ptr<SqlDb> db, std::string path)
    : db_(std::move(db)), path_(std::move(path)) {}

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(const std::string& db_path,
                                                             const SecretKey& key) {
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<SqlDb> db,
                         SqlDb::OpenKeyed(db_path, key.bytes(), StoreOptions()));
  std::unique_ptr<EventStore> store(new EventStore(std::move(db), db_path));
  TACIT_RETURN_IF_ERROR(store->Initialize());
  return store;
}

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::OpenInDirectory(const std::string& dir) {
  TACIT_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  TACIT_ASSIGN_OR_RETURN(SecretKey key, LoadOrCreateKeyFile(dir + "/" + kKeyFile));
  return Open(dir + "/" + kDatabaseFile, key);
}

absl::Status EventStore::Initialize() {
  TACIT_RETURN_IF_ERROR(db_->Exec(absl::StrCat(
      "BEGIN;"
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
      " kind INTEGER NOT NULL, record BLOB NOT NULL);"
      "CREATE INDEX IF NOT EXISTS events_by_time ON events(time_ms);"
      "INSERT OR IGNORE INTO meta VALUES('store_schema_version', '",
      kStoreSchemaVersion,
      "');"
      "INSERT OR IGNORE INTO meta VALUES('retention_days', '",
      kDefaultRetentionDays,
      "');"
      "COMMIT;")));
  TACIT_ASSIGN_OR_RETURN(SqlStatement version,
                         db_->Prepare("SELECT value FROM meta WHERE key='store_schema_version'"));
  TACIT_ASSIGN_OR_RETURN(bool has_version, version.Step());
  if (!has_version) {
    return absl::DataLossError(absl::StrCat("event store '", path_,
                                            "' has no schema version; it is damaged: move it "
                                            "away to start afresh"));
  }
  if (version.Int(0) != kStoreSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("event store '", path_, "' has schema version ", version.Int(0),
                     "; this build reads version ", kStoreSchemaVersion, ": upgrade tacit"));
  }
  TACIT_ASSIGN_OR_RETURN(SqlStatement retention,
                         db_->Prepare("SELECT value FROM meta WHERE key='retention_days'"));
  TACIT_ASSIGN_OR_RETURN(bool has_retention, retention.Step());
  if (has_retention) retention_days_ = static_cast<int>(retention.Int(0));
  TACIT_ASSIGN_OR_RETURN(
      SqlStatement insert,
      db_->Prepare("INSERT INTO events(time_ms, kind, record) VALUES(?1, ?2, ?3)"));
  insert_ = std::make_unique<SqlStatement>(std::move(insert));
  return absl::OkStatus();
}

EventStore::~EventStore() {
  insert_.reset();  // statements before their connection
  db_.reset();
}

absl::StatusOr<std::unique_ptr<EventStore::Writer>> EventStore::StartWriter() {
  if (writer_active_) {
    return absl::FailedPreconditionError("another writer is open on this store; commit it first");
  }
  writer_active_ = true;
  return std::unique_ptr<Writer>(new Writer(this));
}

EventStore::Writer::Writer(EventStore* store) : store_(store) {}

EventStore::Writer::~Writer() {
  transaction_.reset();  // rolls back what was not committed
  store_->writer_active_ = false;
}

absl::Status EventStore::Writer::Add(const Event& event) {
  if (transaction_ == nullptr) {
    TACIT_ASSIGN_OR_RETURN(SqlTransaction transaction, store_->db_->Begin());
    transaction_ = std::make_unique<SqlTransaction>(std::move(transaction));
  }
  buffer_.clear();
  AppendEncodedEvent(event, &buffer_);
  SqlStatement& insert = *store_->insert_;
  insert.Bind(1, event.time_ms).Bind(2, static_cast<int>(event.kind)).BindBlob(3, buffer_);
  absl::Status inserted = insert.Run();
  insert.Reset();
  TACIT_RETURN_IF_ERROR(inserted);
  ++pending_;
  return absl::OkStatus();
}

absl::Status EventStore::Writer::Commit() {
  if (transaction_ == nullptr) return absl::OkStatus();
  TACIT_RETURN_IF_ERROR(transaction_->Commit());
  transaction_.reset();
  pending_ = 0;
  return absl::OkStatus();
}

absl::Status EventStore::Append(const std::vector<Event>& events) {
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<Writer> writer, StartWriter());
  for (const Event& e : events) TACIT_RETURN_IF_ERROR(writer->Add(e));
  return writer->Commit();
}

absl::Status EventStore::ForEach(const TimeRange& range, const std::vector<EventKind>& kinds,
                                 const std::function<absl::Status(const Event&)>& visit) {
  const std::string sql =
      absl::StrCat("SELECT id, record FROM events WHERE time_ms >= ?1 AND time_ms < ?2",
                   KindFilter(kinds), " ORDER BY time_ms, id");
  TACIT_ASSIGN_OR_RETURN(SqlStatement select, db_->Prepare(sql));
  select.Bind(1, range.begin_ms).Bind(2, range.end_ms);
  while (true) {
    TACIT_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return absl::OkStatus();
    absl::StatusOr<Event> event = DecodeEvent(select.BlobView(1));
    if (!event.ok()) {
      return absl::DataLossError(absl::StrCat("event store '", path_, "', row ", select.Int(0),
                                              ": ", event.status().message()));
    }
    TACIT_RETURN_IF_ERROR(visit(*event));
  }
}

absl::StatusOr<std::vector<Event>> EventStore::Read(const TimeRange& range,
                                                    const std::vector<EventKind>& kinds) {
  std::vector<Event> out;
  TACIT_RETURN_IF_ERROR(ForEach(range, kinds, [&](const Event& e) {
    out.push_back(e);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int64_t> EventStore::Delete(const TimeRange& range) {
  if (writer_active_) {
    return absl::FailedPreconditionError("cannot erase while a writer is open; commit it first");
  }
  TACIT_ASSIGN_OR_RETURN(SqlStatement del,
                         db_->Prepare("DELETE FROM events WHERE time_ms >= ?1 AND time_ms < ?2"));
  TACIT_RETURN_IF_ERROR(del.Bind(1, range.begin_ms).Bind(2, range.end_ms).Run());
  const int64_t n = db_->Changes();
  // Move the change out of the WAL into the (overwritten) database pages.
  TACIT_RETURN_IF_ERROR(db_->Exec("PRAGMA wal_checkpoint(TRUNCATE);"));
  return n;
}

absl::StatusOr<int64_t> EventStore::EraseAll() {
  TACIT_ASSIGN_OR_RETURN(int64_t n, Delete(TimeRange{}));
  TACIT_RETURN_IF_ERROR(db_->Exec("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);"));
  return n;
}

absl::StatusOr<int64_t> EventStore::EraseRange(const TimeRange& range) { return Delete(range); }

absl::StatusOr<int64_t> EventStore::EnforceRetention(int64_t now_ms) {
  TimeRange old;
  old.end_ms = now_ms - static_cast<int64_t>(retention_days_) * kDayMs;
  return Delete(old);
}

absl::Status EventStore::SetRetentionDays(int days) {
  if (days < 1 || days > 3650) {
    return absl::InvalidArgumentError(
        absl::StrCat("retention of ", days, " days is out of range; choose 1 to 3650 days"));
  }
  TACIT_RETURN_IF_ERROR(
      db_->Exec(absl::StrCat("UPDATE meta SET value='", days, "' WHERE key='retention_days';")));
  retention_days_ = days;
  return absl::OkStatus();
}

absl::StatusOr<StoreSummary> EventStore::Summary() {
  StoreSummary s;
  s.retention_days = retention_days_;
  s.bytes_on_disk = FileSize(path_) + FileSize(path_ + "-wal");
  TACIT_ASSIGN_OR_RETURN(SqlStatement totals,
                         db_->Prepare("SELECT count(*), min(time_ms), max(time_ms) FROM events"));
  TACIT_ASSIGN_OR_RETURN(bool has_totals, totals.Step());
  if (!has_totals) return absl::InternalError("counting events returned no row");
  s.events = totals.Int(0);
  s.first_ms = totals.Int(1);
  s.last_ms = totals.Int(2);
  // Walks the time index in order and counts per day of the laptop's own
  // calendar (the employee's days, as `audit` and `erase` read them), so
  // memory stays constant however many events there are (a GROUP BY would
  // sort them all in memory: SQLCipher keeps temporary data in RAM, never on
  // disk). libc is asked for a day's bounds once per day, not per event.
  TACIT_ASSIGN_OR_RETURN(SqlStatement rows,
                         db_->Prepare("SELECT time_ms, kind FROM events ORDER BY time_ms"));
  std::optional<LocalDaySpan> current_day;
  std::array<int64_t, kEventKindCount + 1> per_kind{};
  auto flush = [&]() {
    if (!current_day) return;
    for (int k = 1; k <= kEventKindCount; ++k) {
      if (per_kind[static_cast<size_t>(k)] > 0) {
        s.counts.push_back(
            {current_day->name, static_cast<EventKind>(k), per_kind[static_cast<size_t>(k)]});
      }
    }
    per_kind.fill(0);
  };
  while (true) {
    TACIT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    const int64_t time_ms = rows.Int(0);
    if (!current_day || !current_day->Holds(time_ms)) {
      LocalDaySpan day = LocalDayOf(time_ms);
      // Two spans of one calendar day (the fallback above) count as one.
      if (!current_day || current_day->name != day.name) flush();
      current_day = std::move(day);
    }
    const int64_t kind = rows.Int(1);
    if (kind >= 0 && kind <= 255 && IsValidEventKind(static_cast<uint8_t>(kind))) {
      ++per_kind[static_cast<size_t>(kind)];
    }
  }
  flush();
  return s;
}

}  // namespace tacit
