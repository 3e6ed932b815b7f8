#include "common/sql/sql_db.h"

#include <sqlcipher/sqlite3.h>
#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/secure_random.h"

namespace tacit {
namespace {

constexpr size_t kRawKeyBytes = 32;
constexpr size_t kSqlInErrors = 80;  // characters of a statement quoted in errors

std::string Quote(absl::string_view sql) {
  if (sql.size() <= kSqlInErrors) return absl::StrCat("'", sql, "'");
  return absl::StrCat("'", sql.substr(0, kSqlInErrors), "...'");
}

// The error text SQLite holds for `rc`, or its generic text for the code.
std::string Detail(sqlite3* db, int rc) {
  const char* text =
      (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return absl::StrCat(text != nullptr ? text : "unknown error", " (SQLite code ", rc, ")");
}

absl::Status Classify(int rc, const std::string& description, const std::string& path, bool keyed,
                      const std::string& hint, absl::string_view what, const std::string& detail) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      if (keyed) {
        return absl::PermissionDeniedError(absl::StrCat(
            "cannot read the ", description, " '", path, "' (", what,
            "): the key does not match it, or it is not a tacit ", description,
            ". If its key file was replaced or lost the data cannot be recovered; move the file "
            "away to start afresh [",
            detail, "]"));
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "'", path, "' is not a ", description, " (not a SQLite database, or an encrypted one) (",
          what, "): ", hint, " [", detail, "]"));
    case SQLITE_CORRUPT:
      return absl::DataLossError(absl::StrCat(
          "the ", description, " '", path, "' is corrupt (", what,
          "): restore it from a backup, or move it away to start afresh [", detail, "]"));
    case SQLITE_CANTOPEN:
      return absl::PermissionDeniedError(
          absl::StrCat("cannot open the ", description, " '", path,
                       "': check the folder exists and is writable by you [", detail, "]"));
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(
          absl::StrCat("the ", description, " '", path, "' cannot be written (", what,
                       "): check the permissions of the file and its folder [", detail, "]"));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(
          absl::StrCat("the ", description, " '", path, "' is locked by another connection (", what,
                       "): stop the other process using it, then retry [", detail, "]"));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat("the disk holding the ", description, " '",
                                                       path, "' is full (", what,
                                                       "): free space, then retry [", detail, "]"));
    case SQLITE_IOERR:
      return absl::UnavailableError(absl::StrCat("I/O error on the ", description, " '", path,
                                                 "' (", what, "): check the disk [", detail, "]"));
    case SQLITE_NOMEM:
      return absl::ResourceExhaustedError(absl::StrCat(
          "out of memory using the ", description, " '", path, "' (", what, ") [", detail, "]"));
    default:
      return absl::InternalError(absl::StrCat("SQL on the ", description, " '", path, "' failed (",
                                              what, ") [", detail, "]"));
  }
}

}  // namespace

// --- SqlStatement -------------------------------------------------------

SqlStatement::SqlStatement(SqlStatement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

SqlStatement& SqlStatement::operator=(SqlStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    bind_error_ = other.bind_error_;
    other.stmt_ = nullptr;
  }
  return *this;
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

SqlStatement& SqlStatement::BindBlob(int index, absl::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const char kEmpty = 0;
  NoteBind(sqlite3_bind_blob(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(),
                             static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
  return *this;
}

SqlStatement& SqlStatement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index));
  return *this;
}

absl::StatusOr<bool> SqlStatement::Step() {
  if (stmt_ == nullptr) {
    return absl::FailedPreconditionError("SqlStatement::Step on a moved-from statement");
  }
  if (bind_error_ != 0) {
    return db_->Error(bind_error_,
                      absl::StrCat("binding parameters of ", Quote(sqlite3_sql(stmt_))));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, absl::StrCat("running ", Quote(sqlite3_sql(stmt_))));
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

int SqlStatement::ColumnCount() const { return sqlite3_column_count(stmt_); }

std::string SqlStatement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}

absl::string_view SqlStatement::BlobView(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  return blob ? absl::string_view(static_cast<const char*>(blob),
                                  static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : absl::string_view();
}

std::string SqlStatement::Blob(int column) const { return std::string(BlobView(column)); }

// --- SqlTransaction -----------------------------------------------------

SqlTransaction::~SqlTransaction() { Rollback(); }

absl::Status SqlTransaction::Commit() {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError("commit of a transaction that is no longer open");
  }
  absl::Status committed = db_->Exec("COMMIT");
  // On failure the transaction stays open; the destructor rolls it back.
  if (committed.ok()) db_ = nullptr;
  return committed;
}

void SqlTransaction::Rollback() {
  if (db_ == nullptr) return;
  // Some errors (a full disk) already rolled back; "no transaction" is fine.
  db_->Exec("ROLLBACK").IgnoreError();
  db_ = nullptr;
}

// --- SqlDb --------------------------------------------------------------

absl::StatusOr<std::unique_ptr<SqlDb>> SqlDb::Open(const std::string& path,
                                                   const SqlDbOptions& options) {
  return OpenImpl(path, {}, /*keyed=*/false, options);
}

absl::StatusOr<std::unique_ptr<SqlDb>> SqlDb::OpenKeyed(const std::string& path,
                                                        absl::string_view raw_key,
                                                        const SqlDbOptions& options) {
  if (raw_key.size() != kRawKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the key for the ", options.description, " '", path, "' has ", raw_key.size(),
                     " bytes; SQLCipher raw keys are ", kRawKeyBytes, " bytes"));
  }
  return OpenImpl(path, raw_key, /*keyed=*/true, options);
}

absl::StatusOr<std::unique_ptr<SqlDb>> SqlDb::OpenImpl(const std::string& path,
                                                       absl::string_view raw_key, bool keyed,
                                                       const SqlDbOptions& options) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
          SQLITE_OPEN_FULLMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = Classify(rc, options.description, path, keyed, options.not_a_database_hint,
                              "opening", Detail(raw, rc));
    sqlite3_close_v2(raw);
    return s;
  }
  std::unique_ptr<SqlDb> db(new SqlDb(raw, path, options, keyed));
  if (options.file_mode != 0 && !options.read_only) {
    ::chmod(path.c_str(), static_cast<mode_t>(options.file_mode));
  }
  if (keyed) {
    absl::Status s = db->ApplyKey(raw_key);
    if (!s.ok()) return s;
  }
  absl::Status s = db->Configure();
  if (!s.ok()) return s;
  return db;
}

absl::Status SqlDb::ApplyKey(absl::string_view raw_key) {
  // PRAGMA key = "x'<64 hex>'": a raw key skips the passphrase KDF, since the
  // caller's key is already full-entropy bytes. The text is built in place
  // (no hex copy elsewhere) and wiped right after SQLCipher has read it.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string pragma = "PRAGMA key = \"x'";
  const size_t prefix = pragma.size();
  pragma.resize(prefix + 2 * raw_key.size());
  for (size_t i = 0; i < raw_key.size(); ++i) {
    const auto byte = static_cast<unsigned char>(raw_key[i]);
    pragma[prefix + 2 * i] = kHex[byte >> 4];
    pragma[prefix + 2 * i + 1] = kHex[byte & 0x0f];
  }
  pragma += "'\";";
  const int rc = sqlite3_exec(db_, pragma.c_str(), nullptr, nullptr, nullptr);
  Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(pragma.data()), pragma.size()));
  // The statement text is never quoted in the error: it held the key.
  if (rc != SQLITE_OK) return Error(rc, "setting the SQLCipher key");
  return Exec("PRAGMA cipher_page_size = 4096;");
}

absl::Status SqlDb::Configure() {
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
  // The first read of the file: a wrong key or a file that is not a database
  // fails here, with SQLITE_NOTADB.
  {
    absl::StatusOr<SqlStatement> probe = Prepare("SELECT count(*) FROM sqlite_master");
    if (!probe.ok()) return probe.status();
    absl::Status stepped = probe->Run();
    if (!stepped.ok()) return stepped;
  }
  if (options_.read_only) {
    return Exec(absl::StrCat("PRAGMA foreign_keys = ", options_.foreign_keys ? "ON" : "OFF", ";"));
  }
  return Exec(absl::StrCat("PRAGMA journal_mode = WAL; PRAGMA synchronous = ",
                           options_.synchronous == SqlSynchronous::kFull ? "FULL" : "NORMAL",
                           "; PRAGMA secure_delete = ", options_.secure_delete ? "ON" : "OFF",
                           "; PRAGMA foreign_keys = ", options_.foreign_keys ? "ON" : "OFF", ";"));
}

SqlDb::~SqlDb() { sqlite3_close_v2(db_); }

absl::Status SqlDb::Error(int rc, absl::string_view what) const {
  return Classify(rc, options_.description, path_, keyed_, options_.not_a_database_hint, what,
                  Detail(db_, rc));
}

absl::Status SqlDb::Exec(const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string detail =
      absl::StrCat(message != nullptr ? message : sqlite3_errstr(rc), " (SQLite code ", rc, ")");
  sqlite3_free(message);
  return Classify(rc, options_.description, path_, keyed_, options_.not_a_database_hint,
                  absl::StrCat("running ", Quote(sql)), detail);
}

absl::StatusOr<SqlStatement> SqlDb::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, absl::StrCat("preparing ", Quote(sql)));
  }
  return SqlStatement(this, stmt);
}

absl::StatusOr<SqlTransaction> SqlDb::Begin() {
  absl::Status begun = Exec("BEGIN IMMEDIATE");
  if (!begun.ok()) return begun;
  return SqlTransaction(this);
}

int64_t SqlDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int SqlDb::Changes() const { return sqlite3_changes(db_); }

}  // namespace tacit
