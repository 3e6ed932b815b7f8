#pragma once

// The tree's one SQL wrapper: a thin RAII layer over the SQLCipher C API,
// used keyed by the client's encrypted event store and unkeyed by the
// coordinator's state database (round bookkeeping, no personal data).
//
// Every failure comes back as a Status that names the file, says what went
// wrong in words and what to do: a wrong key or a file that is not a
// database is PermissionDenied (keyed) or FailedPrecondition (unkeyed), a
// malformed file is DataLoss, a locked one Unavailable, a full disk
// ResourceExhausted. SQLite's own message and code are kept at the end.
//
// Library tacit_sql (links SQLCipher; tacit_common stays free of SQL).

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tacit {

class SqlDb;

// A prepared statement. It must not outlive the SqlDb that prepared it.
class SqlStatement {
 public:
  SqlStatement(SqlStatement&& other) noexcept;
  SqlStatement& operator=(SqlStatement&& other) noexcept;
  SqlStatement(const SqlStatement&) = delete;
  SqlStatement& operator=(const SqlStatement&) = delete;
  ~SqlStatement();

  // Parameters are 1-based, as in SQL "?1". A binding error (index out of
  // range, out of memory) is reported by the next Step()/Run().
  SqlStatement& Bind(int index, int64_t value);
  SqlStatement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  SqlStatement& Bind(int index, double value);
  SqlStatement& Bind(int index, const std::string& value);  // TEXT
  SqlStatement& BindBlob(int index, absl::string_view bytes);
  SqlStatement& BindNull(int index);

  // true: a row is available; false: done.
  absl::StatusOr<bool> Step();
  // Runs to completion (for INSERT/UPDATE/DELETE).
  absl::Status Run();
  // Makes the statement runnable again; bindings are kept until rebound.
  void Reset();

  // Typed reads of the current row (0-based columns). NULL reads as 0 or "".
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;
  // The blob without a copy; valid until the next Step(), Reset() or the
  // statement's destruction.
  absl::string_view BlobView(int column) const;
  bool IsNull(int column) const;
  int ColumnCount() const;

 private:
  friend class SqlDb;
  SqlStatement(const SqlDb* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int rc);

  const SqlDb* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;
};

// An open transaction: Commit() makes it durable; destroying it uncommitted
// rolls it back. It must not outlive its SqlDb.
class SqlTransaction {
 public:
  SqlTransaction(SqlTransaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  SqlTransaction& operator=(SqlTransaction&&) = delete;
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;
  ~SqlTransaction();

  absl::Status Commit();
  // Explicit rollback; a no-op once committed or rolled back.
  void Rollback();
  bool open() const { return db_ != nullptr; }

 private:
  friend class SqlDb;
  explicit SqlTransaction(SqlDb* db) : db_(db) {}
  SqlDb* db_;
};

enum class SqlSynchronous { kNormal, kFull };

struct SqlDbOptions {
  // What the file is, for error messages: "event store", "coordinator state
  // database".
  std::string description = "database";
  // Appended to "not a database" errors of an unkeyed file: what to do.
  std::string not_a_database_hint = "check the path, or move the file away to start afresh";
  // FULL: a committed transaction survives a power cut. NORMAL (with WAL):
  // it survives a crash of the process; a power cut may lose the last ones.
  SqlSynchronous synchronous = SqlSynchronous::kFull;
  bool foreign_keys = true;
  // Freed pages are overwritten with zeros (erasure really erases).
  bool secure_delete = false;
  int busy_timeout_ms = 5000;
  // File mode applied after opening (0: leave as created by the umask).
  int file_mode = 0;
  // Opens an existing file for reading only: never created, never written,
  // its journal mode and file mode left as they are.
  bool read_only = false;
};

class SqlDb {
 public:
  // Opens (creating if missing) an unkeyed database with WAL journaling.
  static absl::StatusOr<std::unique_ptr<SqlDb>> Open(const std::string& path,
                                                     const SqlDbOptions& options = {});
  // Opens (creating if missing) a SQLCipher database keyed with a raw
  // 256-bit key (32 bytes: no passphrase KDF). Every page, WAL included, is
  // encrypted and authenticated. The key text built for SQLCipher is wiped
  // after use. A wrong key is PermissionDenied naming the file.
  static absl::StatusOr<std::unique_ptr<SqlDb>> OpenKeyed(const std::string& path,
                                                          absl::string_view raw_key,
                                                          const SqlDbOptions& options = {});
  ~SqlDb();
  SqlDb(const SqlDb&) = delete;
  SqlDb& operator=(const SqlDb&) = delete;

  // Runs one or more statements with no parameters and no result rows.
  absl::Status Exec(const std::string& sql);
  absl::StatusOr<SqlStatement> Prepare(const std::string& sql);
  int64_t LastInsertRowId() const;
  int Changes() const;  // rows changed by the last statement

  // BEGIN IMMEDIATE: takes the write lock now, so the transaction cannot
  // fail later for a lock another connection holds.
  absl::StatusOr<SqlTransaction> Begin();

  // Runs `body` inside a transaction: COMMIT when it returns OK, ROLLBACK
  // (and its error returned) otherwise.
  template <typename Body>
  absl::Status Transaction(Body&& body) {
    absl::StatusOr<SqlTransaction> transaction = Begin();
    if (!transaction.ok()) return transaction.status();
    absl::Status s = body();
    if (!s.ok()) return s;  // ~SqlTransaction rolls back
    return transaction->Commit();
  }

  const std::string& path() const { return path_; }
  bool keyed() const { return keyed_; }

  // The Status for SQLite result code `rc` while doing `what` (e.g.
  // "reading events"), with advice for the codes an operator can act on.
  absl::Status Error(int rc, absl::string_view what) const;

 private:
  SqlDb(sqlite3* db, std::string path, SqlDbOptions options, bool keyed)
      : db_(db), path_(std::move(path)), options_(std::move(options)), keyed_(keyed) {}
  static absl::StatusOr<std::unique_ptr<SqlDb>> OpenImpl(const std::string& path,
                                                         absl::string_view raw_key, bool keyed,
                                                         const SqlDbOptions& options);
  absl::Status ApplyKey(absl::string_view raw_key);
  absl::Status Configure();

  sqlite3* db_;
  std::string path_;
  SqlDbOptions options_;
  bool keyed_;
};

}  // namespace tacit
