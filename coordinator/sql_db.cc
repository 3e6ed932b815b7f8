#include "coordinator/sql_db.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"

namespace tacit::coordinator {
namespace {

absl::Status SqlError(sqlite3* db, int rc, const std::string& what) {
  return absl::InternalError(absl::StrCat(
      "SQL ", what, " failed: ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), " (code ", rc, ")"));
}

}  // namespace

SqlStatement::SqlStatement(SqlStatement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

SqlStatement::~SqlStatement() { sqlite3_finalize(stmt_); }

void SqlStatement::NoteBind(int rc) {
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

SqlStatement& SqlStatement::Bind(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

SqlStatement& SqlStatement::Bind(int index, double value) {
  NoteBind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

SqlStatement& SqlStatement::Bind(int index, const std::string& value) {
  NoteBind(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                             SQLITE_TRANSIENT));
  return *this;
}

SqlStatement& SqlStatement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index));
  return *this;
}

absl::StatusOr<bool> SqlStatement::Step() {
  if (bind_error_ != 0) return SqlError(db_, bind_error_, "bind");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqlError(db_, rc, absl::StrCat("step of '", sqlite3_sql(stmt_), "'"));
}

absl::Status SqlStatement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

void SqlStatement::Reset() {
  sqlite3_reset(stmt_);
  bind_error_ = 0;
}

int64_t SqlStatement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double SqlStatement::Double(int column) const { return sqlite3_column_double(stmt_, column); }
bool SqlStatement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
std::string SqlStatement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}

absl::StatusOr<std::unique_ptr<SqlDb>> SqlDb::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = SqlError(raw, rc, absl::StrCat("open of ", path));
    sqlite3_close(raw);
    return s;
  }
  std::unique_ptr<SqlDb> db(new SqlDb(raw));
  sqlite3_busy_timeout(raw, 5000);
  if (absl::Status s = db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                "PRAGMA foreign_keys=ON;");
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message(),
                                               "; is it a tacit coordinator state database?"));
  }
  return db;
}

SqlDb::~SqlDb() { sqlite3_close(db_); }

absl::Status SqlDb::Exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    return absl::InternalError(absl::StrCat("SQL '", sql.substr(0, 80), "' failed: ", message));
  }
  return absl::OkStatus();
}

absl::StatusOr<SqlStatement> SqlDb::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqlError(db_, rc, absl::StrCat("prepare of '", sql, "'"));
  return SqlStatement(db_, stmt);
}

int64_t SqlDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int SqlDb::Changes() const { return sqlite3_changes(db_); }

}  // namespace tacit::coordinator
