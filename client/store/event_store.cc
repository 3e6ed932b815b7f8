#include "client/store/event_store.h"

#include <openssl/crypto.h>
#include <sqlcipher/sqlite3.h>
#include <sys/stat.h>
#include <time.h>

#include <array>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/event_codec.h"
#include "common/file_io.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

constexpr int kStoreSchemaVersion = 1;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

// Prepared statement that finalizes itself.
class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

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

// "2026-01-05" for a day number since the epoch (UTC).
std::string DayName(int64_t day) {
  time_t seconds = static_cast<time_t>(day * 86400);
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char text[16];
  strftime(text, sizeof text, "%Y-%m-%d", &utc);
  return text;
}

}  // namespace

absl::Status EventStore::Error(const std::string& what) const {
  return absl::InternalError(
      absl::StrCat("event store '", path_, "': ", what, ": ", sqlite3_errmsg(db_)));
}

absl::Status EventStore::Exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string text = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  if (rc == SQLITE_NOTADB) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot read the event store '", path_,
        "': the key does not match it (or it is not a tacit store). If its key file was "
        "replaced or lost the data cannot be recovered; move the file away to start afresh"));
  }
  return absl::InternalError(absl::StrCat("event store '", path_, "': ", text));
}

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(const std::string& db_path,
                                                             const SecretKey& key) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(db_path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<EventStore> store(new EventStore(db, db_path));
  if (rc != SQLITE_OK) {
    return absl::PermissionDeniedError(absl::StrCat("cannot open the event store '", db_path,
                                                    "': ", sqlite3_errstr(rc),
                                                    "; check the folder exists and is yours"));
  }
  ::chmod(db_path.c_str(), 0600);
  TACIT_RETURN_IF_ERROR(store->Initialize(key));
  return store;
}

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::OpenInDirectory(const std::string& dir) {
  TACIT_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  TACIT_ASSIGN_OR_RETURN(SecretKey key, LoadOrCreateKeyFile(dir + "/" + kKeyFile));
  return Open(dir + "/" + kDatabaseFile, key);
}

absl::Status EventStore::Initialize(const SecretKey& key) {
  // A raw 256-bit key (x'..') skips the passphrase KDF: the key file already
  // holds full-entropy bytes.
  std::string pragma =
      absl::StrCat("PRAGMA key = \"x'", absl::BytesToHexString(key.bytes()), "'\";");
  absl::Status keyed = Exec(pragma);
  OPENSSL_cleanse(pragma.data(), pragma.size());
  TACIT_RETURN_IF_ERROR(keyed);
  TACIT_RETURN_IF_ERROR(Exec("PRAGMA cipher_page_size = 4096;"));
  // The first read checks the key: a wrong key fails here with SQLITE_NOTADB.
  TACIT_RETURN_IF_ERROR(Exec("SELECT count(*) FROM sqlite_master;"));
  TACIT_RETURN_IF_ERROR(
      Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;"
           "PRAGMA foreign_keys = OFF; PRAGMA busy_timeout = 5000;"));
  TACIT_RETURN_IF_ERROR(Exec(absl::StrCat(
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
  Statement version;
  if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key='store_schema_version'", -1,
                         version.out(), nullptr) != SQLITE_OK ||
      sqlite3_step(version.get()) != SQLITE_ROW) {
    return Error("reading the store schema version");
  }
  if (sqlite3_column_int(version.get(), 0) != kStoreSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "event store '", path_, "' has schema version ", sqlite3_column_int(version.get(), 0),
        "; this build reads version ", kStoreSchemaVersion, ": upgrade tacit"));
  }
  Statement retention;
  if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key='retention_days'", -1,
                         retention.out(), nullptr) == SQLITE_OK &&
      sqlite3_step(retention.get()) == SQLITE_ROW) {
    retention_days_ = sqlite3_column_int(retention.get(), 0);
  }
  if (sqlite3_prepare_v2(db_, "INSERT INTO events(time_ms, kind, record) VALUES(?, ?, ?)", -1,
                         &insert_, nullptr) != SQLITE_OK) {
    return Error("preparing the insert");
  }
  return absl::OkStatus();
}

EventStore::~EventStore() {
  sqlite3_finalize(insert_);
  sqlite3_close_v2(db_);
}

absl::StatusOr<std::unique_ptr<EventStore::Writer>> EventStore::StartWriter() {
  if (writer_active_) {
    return absl::FailedPreconditionError("another writer is open on this store; commit it first");
  }
  writer_active_ = true;
  return std::unique_ptr<Writer>(new Writer(this));
}

EventStore::Writer::~Writer() {
  if (open_) store_->Exec("ROLLBACK;").IgnoreError();
  store_->writer_active_ = false;
}

absl::Status EventStore::Writer::Add(const Event& event) {
  if (!open_) {
    TACIT_RETURN_IF_ERROR(store_->Exec("BEGIN IMMEDIATE;"));
    open_ = true;
  }
  buffer_.clear();
  AppendEncodedEvent(event, &buffer_);
  sqlite3_stmt* insert = store_->insert_;
  sqlite3_bind_int64(insert, 1, event.time_ms);
  sqlite3_bind_int(insert, 2, static_cast<int>(event.kind));
  sqlite3_bind_blob(insert, 3, buffer_.data(), static_cast<int>(buffer_.size()), SQLITE_STATIC);
  int rc = sqlite3_step(insert);
  sqlite3_reset(insert);
  if (rc != SQLITE_DONE) return store_->Error("appending an event");
  ++pending_;
  return absl::OkStatus();
}

absl::Status EventStore::Writer::Commit() {
  if (!open_) return absl::OkStatus();
  TACIT_RETURN_IF_ERROR(store_->Exec("COMMIT;"));
  open_ = false;
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
  Statement select;
  std::string sql = absl::StrCat("SELECT id, record FROM events WHERE time_ms >= ? AND time_ms < ?",
                                 KindFilter(kinds), " ORDER BY time_ms, id");
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, select.out(), nullptr) != SQLITE_OK) {
    return Error("preparing a read");
  }
  sqlite3_bind_int64(select.get(), 1, range.begin_ms);
  sqlite3_bind_int64(select.get(), 2, range.end_ms);
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    const void* blob = sqlite3_column_blob(select.get(), 1);
    int size = sqlite3_column_bytes(select.get(), 1);
    absl::StatusOr<Event> event =
        DecodeEvent(absl::string_view(static_cast<const char*>(blob), static_cast<size_t>(size)));
    if (!event.ok()) {
      return absl::DataLossError(absl::StrCat("event store '", path_, "', row ",
                                              sqlite3_column_int64(select.get(), 0), ": ",
                                              event.status().message()));
    }
    TACIT_RETURN_IF_ERROR(visit(*event));
  }
  if (rc != SQLITE_DONE) return Error("reading events");
  return absl::OkStatus();
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
  Statement del;
  if (sqlite3_prepare_v2(db_, "DELETE FROM events WHERE time_ms >= ? AND time_ms < ?", -1,
                         del.out(), nullptr) != SQLITE_OK) {
    return Error("preparing a delete");
  }
  sqlite3_bind_int64(del.get(), 1, range.begin_ms);
  sqlite3_bind_int64(del.get(), 2, range.end_ms);
  if (sqlite3_step(del.get()) != SQLITE_DONE) return Error("deleting events");
  const int64_t n = sqlite3_changes(db_);
  // Move the change out of the WAL into the (overwritten) database pages.
  TACIT_RETURN_IF_ERROR(Exec("PRAGMA wal_checkpoint(TRUNCATE);"));
  return n;
}

absl::StatusOr<int64_t> EventStore::EraseAll() {
  TACIT_ASSIGN_OR_RETURN(int64_t n, Delete(TimeRange{}));
  TACIT_RETURN_IF_ERROR(Exec("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);"));
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
      Exec(absl::StrCat("UPDATE meta SET value='", days, "' WHERE key='retention_days';")));
  retention_days_ = days;
  return absl::OkStatus();
}

absl::StatusOr<StoreSummary> EventStore::Summary() {
  StoreSummary s;
  s.retention_days = retention_days_;
  s.bytes_on_disk = FileSize(path_) + FileSize(path_ + "-wal");
  Statement totals;
  if (sqlite3_prepare_v2(db_, "SELECT count(*), min(time_ms), max(time_ms) FROM events", -1,
                         totals.out(), nullptr) != SQLITE_OK ||
      sqlite3_step(totals.get()) != SQLITE_ROW) {
    return Error("counting events");
  }
  s.events = sqlite3_column_int64(totals.get(), 0);
  s.first_ms = sqlite3_column_int64(totals.get(), 1);
  s.last_ms = sqlite3_column_int64(totals.get(), 2);
  // Walks the time index in order and counts per UTC day, so memory stays
  // constant however many events there are (a GROUP BY would sort them all
  // in memory: SQLCipher keeps temporary data in RAM, never on disk).
  Statement rows;
  if (sqlite3_prepare_v2(db_, "SELECT time_ms, kind FROM events ORDER BY time_ms", -1, rows.out(),
                         nullptr) != SQLITE_OK) {
    return Error("preparing counts");
  }
  int64_t current_day = std::numeric_limits<int64_t>::min();
  std::array<int64_t, kEventKindCount + 1> per_kind{};
  auto flush = [&]() {
    if (current_day == std::numeric_limits<int64_t>::min()) return;
    for (int k = 1; k <= kEventKindCount; ++k) {
      if (per_kind[static_cast<size_t>(k)] > 0) {
        s.counts.push_back(
            {DayName(current_day), static_cast<EventKind>(k), per_kind[static_cast<size_t>(k)]});
      }
    }
    per_kind.fill(0);
  };
  int rc;
  while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
    const int64_t time_ms = sqlite3_column_int64(rows.get(), 0);
    const int64_t day = time_ms >= 0 ? time_ms / kDayMs : (time_ms - kDayMs + 1) / kDayMs;
    if (day != current_day) {
      flush();
      current_day = day;
    }
    const int kind = sqlite3_column_int(rows.get(), 1);
    if (IsValidEventKind(static_cast<uint8_t>(kind))) ++per_kind[static_cast<size_t>(kind)];
  }
  flush();
  if (rc != SQLITE_DONE) return Error("counting events by kind and day");
  return s;
}

}  // namespace tacit
