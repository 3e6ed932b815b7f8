#pragma once

// A thin RAII layer over the SQLCipher C API (used unkeyed on the
// coordinator: the state holds no personal data, only round bookkeeping).
// Every failure comes back as a Status carrying SQLite's own message.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tacit::coordinator {

class SqlStatement {
 public:
  SqlStatement(SqlStatement&&) noexcept;
  ~SqlStatement();

  // Parameters are 1-based, as in SQL "?1".
  SqlStatement& Bind(int index, int64_t value);
  SqlStatement& Bind(int index, double value);
  SqlStatement& Bind(int index, const std::string& value);
  SqlStatement& BindNull(int index);

  // true: a row is available; false: done. Errors from binding surface here.
  absl::StatusOr<bool> Step();
  // Runs to completion (for INSERT/UPDATE/DELETE).
  absl::Status Run();
  // Makes the statement runnable again; bindings are kept until rebound.
  void Reset();

  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  friend class SqlDb;
  SqlStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;
};

class SqlDb {
 public:
  // Opens (creating if missing) the database file with WAL journaling and
  // synchronous=FULL, so a committed transaction survives a power cut.
  static absl::StatusOr<std::unique_ptr<SqlDb>> Open(const std::string& path);
  ~SqlDb();

  absl::Status Exec(const std::string& sql);
  absl::StatusOr<SqlStatement> Prepare(const std::string& sql);
  int64_t LastInsertRowId() const;
  int Changes() const;

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back on error.
  template <typename Body>
  absl::Status Transaction(Body&& body) {
    if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    absl::Status s = body();
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
    return Exec("COMMIT");
  }

 private:
  explicit SqlDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace tacit::coordinator
