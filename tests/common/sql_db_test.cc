#include "common/sql/sql_db.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tacit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kKey(32, '\x5a');
const std::string kOtherKey(32, '\x33');

class SqlDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "tacit-sql-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int64_t CountRows(SqlDb& db, const std::string& table) {
  auto q = db.Prepare("SELECT count(*) FROM " + table);
  EXPECT_TRUE(q.ok()) << q.status();
  auto row = q->Step();
  EXPECT_TRUE(row.ok() && *row);
  return q->Int(0);
}

TEST_F(SqlDbTest, TypedColumnsRoundTrip) {
  auto db = SqlDb::Open(File("typed.db"));
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)").ok());
  auto insert = (*db)->Prepare("INSERT INTO t VALUES(?1, ?2, ?3, ?4, ?5)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  const std::string blob("\x00\x01\xff zero inside", 15);
  ASSERT_TRUE(insert->Bind(1, int64_t{-9007199254740993})
                  .Bind(2, 0.1)
                  .Bind(3, std::string("caf\xc3\xa9"))
                  .BindBlob(4, blob)
                  .BindNull(5)
                  .Run()
                  .ok());
  EXPECT_EQ((*db)->LastInsertRowId(), 1);
  EXPECT_EQ((*db)->Changes(), 1);

  auto select = (*db)->Prepare("SELECT i, d, s, b, n FROM t");
  ASSERT_TRUE(select.ok());
  auto row = select->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(select->ColumnCount(), 5);
  EXPECT_EQ(select->Int(0), -9007199254740993);
  EXPECT_EQ(select->Double(1), 0.1);
  EXPECT_EQ(select->Text(2), "caf\xc3\xa9");
  EXPECT_EQ(select->Blob(3), blob);
  EXPECT_EQ(select->BlobView(3), blob);
  EXPECT_TRUE(select->IsNull(4));
  EXPECT_FALSE(select->IsNull(0));
  EXPECT_EQ(select->Text(4), "");
  row = select->Step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);

  // Reset keeps the statement usable: the same insert runs again.
  insert->Reset();
  ASSERT_TRUE(insert->Bind(1, 2).Bind(2, 2.5).Bind(3, std::string("b")).BindBlob(4, "").Run().ok());
  EXPECT_EQ(CountRows(**db, "t"), 2);
  auto empty_blob = (*db)->Prepare("SELECT typeof(b) FROM t WHERE i = 2");
  ASSERT_TRUE(empty_blob.ok() && *empty_blob->Step());
  EXPECT_EQ(empty_blob->Text(0), "blob");  // an empty blob is not NULL
}

TEST_F(SqlDbTest, ErrorsNameTheStatementAndTheFile) {
  SqlDbOptions options;
  options.description = "test ledger";
  auto db = SqlDb::Open(File("errors.db"), options);
  ASSERT_TRUE(db.ok());
  absl::Status bad = (*db)->Exec("CREATE TABLE");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr("errors.db"));
  EXPECT_THAT(bad.message(), HasSubstr("test ledger"));
  EXPECT_THAT(bad.message(), HasSubstr("CREATE TABLE"));

  auto prepared = (*db)->Prepare("SELECT * FROM missing_table");
  ASSERT_FALSE(prepared.ok());
  EXPECT_THAT(prepared.status().message(), HasSubstr("no such table: missing_table"));

  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(x INTEGER PRIMARY KEY)").ok());
  auto out_of_range = (*db)->Prepare("INSERT INTO t VALUES(?1)");
  ASSERT_TRUE(out_of_range.ok());
  absl::Status bind = out_of_range->Bind(7, 1).Run();  // there is no ?7
  EXPECT_FALSE(bind.ok());
  EXPECT_THAT(bind.message(), HasSubstr("binding"));
  EXPECT_EQ(CountRows(**db, "t"), 0);
}

TEST_F(SqlDbTest, FailedTransactionRollsBackEveryStatement) {
  auto db = SqlDb::Open(File("tx.db"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(x INTEGER PRIMARY KEY)").ok());
  absl::Status failed = (*db)->Transaction([&]() -> absl::Status {
    if (absl::Status s = (*db)->Exec("INSERT INTO t VALUES(1); INSERT INTO t VALUES(2)"); !s.ok()) {
      return s;
    }
    EXPECT_EQ(CountRows(**db, "t"), 2);             // visible inside the transaction
    return (*db)->Exec("INSERT INTO t VALUES(1)");  // duplicate key: fails
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(CountRows(**db, "t"), 0);

  absl::Status body_error = (*db)->Transaction([&]() -> absl::Status {
    if (absl::Status s = (*db)->Exec("INSERT INTO t VALUES(3)"); !s.ok()) return s;
    return absl::AbortedError("the caller changed its mind");
  });
  EXPECT_EQ(body_error.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(CountRows(**db, "t"), 0);

  ASSERT_TRUE((*db)->Transaction([&] { return (*db)->Exec("INSERT INTO t VALUES(4)"); }).ok());
  EXPECT_EQ(CountRows(**db, "t"), 1);

  // An explicit transaction dropped without Commit() rolls back; a committed
  // one survives reopening the file.
  {
    auto tx = (*db)->Begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES(5)").ok());
  }
  EXPECT_EQ(CountRows(**db, "t"), 1);
  {
    auto tx = (*db)->Begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES(6)").ok());
    ASSERT_TRUE(tx->Commit().ok());
    EXPECT_FALSE(tx->open());
    EXPECT_FALSE(tx->Commit().ok());  // not twice
  }
  db->reset();
  auto reopened = SqlDb::Open(File("tx.db"));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(CountRows(**reopened, "t"), 2);
}

TEST_F(SqlDbTest, KeyedDatabaseIsEncryptedAndRefusesAWrongKey) {
  const std::string path = File("secret.db");
  {
    auto db = SqlDb::OpenKeyed(path, kKey);
    ASSERT_TRUE(db.ok()) << db.status();
    EXPECT_TRUE((*db)->keyed());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE notes(text TEXT)").ok());
    auto insert = (*db)->Prepare("INSERT INTO notes VALUES(?1)");
    ASSERT_TRUE(insert.ok());
    ASSERT_TRUE(insert->Bind(1, std::string("a very recognisable plaintext")).Run().ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  const std::string on_disk = ReadAll(path);
  ASSERT_FALSE(on_disk.empty());
  EXPECT_THAT(on_disk, Not(HasSubstr("recognisable")));
  EXPECT_THAT(on_disk, Not(HasSubstr("SQLite format 3")));

  auto same = SqlDb::OpenKeyed(path, kKey);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(CountRows(**same, "notes"), 1);
  same->reset();

  auto wrong = SqlDb::OpenKeyed(path, kOtherKey);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(wrong.status().message(), HasSubstr("secret.db"));
  EXPECT_THAT(wrong.status().message(), HasSubstr("key does not match"));
  // The key never appears in an error.
  EXPECT_THAT(wrong.status().message(), Not(HasSubstr("3333")));

  auto unkeyed = SqlDb::Open(path);
  ASSERT_FALSE(unkeyed.ok());
  EXPECT_EQ(unkeyed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unkeyed.status().message(), HasSubstr("is not a database"));

  auto short_key = SqlDb::OpenKeyed(path, "too short");
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqlDbTest, FileThatIsNotADatabaseIsNamedWithAdvice) {
  const std::string path = File("notes.txt");
  std::ofstream(path, std::ios::binary) << std::string(8192, 'x');
  SqlDbOptions options;
  options.description = "coordinator state database";
  options.not_a_database_hint = "point --state-dir at a coordinator state folder";
  auto db = SqlDb::Open(path, options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(db.status().message(), HasSubstr("notes.txt"));
  EXPECT_THAT(db.status().message(), HasSubstr("is not a coordinator state database"));
  EXPECT_THAT(db.status().message(), HasSubstr("point --state-dir"));

  auto keyed = SqlDb::OpenKeyed(path, kKey);
  ASSERT_FALSE(keyed.ok());
  EXPECT_EQ(keyed.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(SqlDbTest, CorruptFileIsDataLossNamingTheFile) {
  const std::string path = File("corrupt.db");
  {
    auto db = SqlDb::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA page_size = 4096; CREATE TABLE t(x TEXT)").ok());
    auto insert = (*db)->Prepare("INSERT INTO t VALUES(?1)");
    ASSERT_TRUE(insert.ok());
    auto tx = (*db)->Begin();
    ASSERT_TRUE(tx.ok());
    for (int i = 0; i < 200; ++i) {
      insert->Reset();
      ASSERT_TRUE(insert->Bind(1, std::string(100, static_cast<char>('a' + i % 26))).Run().ok());
    }
    ASSERT_TRUE(tx->Commit().ok());
  }  // closing checkpoints the WAL into the file
  std::string bytes = ReadAll(path);
  ASSERT_GE(bytes.size(), 3 * 4096u);
  // Page 2 is the table's root: overwrite it with garbage.
  for (size_t i = 4096; i < 2 * 4096; ++i) bytes[i] = static_cast<char>(0xA5);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;

  auto db = SqlDb::Open(path);
  ASSERT_TRUE(db.ok()) << db.status();  // page 1 (the schema) is intact
  auto q = (*db)->Prepare("SELECT count(*), max(x) FROM t");
  ASSERT_TRUE(q.ok());
  absl::StatusOr<bool> row = q->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), absl::StatusCode::kDataLoss) << row.status();
  EXPECT_THAT(row.status().message(), HasSubstr("corrupt.db"));
  EXPECT_THAT(row.status().message(), HasSubstr("backup"));
}

TEST_F(SqlDbTest, TamperedKeyedPageIsRefused) {
  const std::string path = File("tampered.db");
  {
    auto db = SqlDb::OpenKeyed(path, kKey);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t(x TEXT)").ok());
    auto insert = (*db)->Prepare("INSERT INTO t VALUES(?1)");
    ASSERT_TRUE(insert.ok());
    auto tx = (*db)->Begin();
    ASSERT_TRUE(tx.ok());
    for (int i = 0; i < 200; ++i) {
      insert->Reset();
      ASSERT_TRUE(insert->Bind(1, std::string(100, 'q')).Run().ok());
    }
    ASSERT_TRUE(tx->Commit().ok());
  }
  std::string bytes = ReadAll(path);
  ASSERT_GE(bytes.size(), 3 * 4096u);
  bytes[4096 + 100] ^= 0x01;  // one bit of page 2
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;

  auto db = SqlDb::OpenKeyed(path, kKey);
  absl::Status status = db.status();
  if (db.ok()) {
    auto q = (*db)->Prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(q.ok());
    status = q->Run();
  }
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("tampered.db"));
}

TEST_F(SqlDbTest, MissingFolderSaysWhatToCheck) {
  auto db = SqlDb::Open(File("no/such/folder/x.db"));
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(db.status().message(), HasSubstr("check the folder exists"));
}

TEST_F(SqlDbTest, FileModeIsApplied) {
  SqlDbOptions options;
  options.file_mode = 0600;
  auto db = SqlDb::OpenKeyed(File("private.db"), kKey, options);
  ASSERT_TRUE(db.ok());
  auto perms = std::filesystem::status(File("private.db")).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

}  // namespace
}  // namespace tacit
