// erase --all erases whatever state the store is in: a damaged store or one
// whose key does not open it is deleted with its key, never left behind.

#include "client/store/erase_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "client/store/event_store.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"

namespace tacit {
namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

void StoreEvents(const std::string& dir, int n) {
  auto store = EventStore::OpenInDirectory(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Event> events(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    events[static_cast<size_t>(i)].time_ms = 1767571200000 + i;
    events[static_cast<size_t>(i)].kind = EventKind::kShellCommand;
    events[static_cast<size_t>(i)].command = "git";
  }
  ASSERT_TRUE((*store)->Append(events).ok());
}

void ExpectStoreFilesGone(const std::string& dir, const EraseAllReport& report) {
  EXPECT_FALSE(report.emptied_in_place);
  EXPECT_FALSE(report.unreadable_reason.empty());
  for (const char* name : {"events.db", "events.db-wal", "events.db-shm", "store.key"}) {
    EXPECT_FALSE(Exists(dir + "/" + name)) << name;
  }
  EXPECT_NE(std::find(report.removed_files.begin(), report.removed_files.end(), dir + "/events.db"),
            report.removed_files.end());
  EXPECT_NE(std::find(report.removed_files.begin(), report.removed_files.end(), dir + "/store.key"),
            report.removed_files.end());
}

TEST(EraseAll, AReadableStoreIsEmptiedInPlace) {
  testing::TempDir tmp;
  StoreEvents(tmp.path(), 50);
  auto report = EraseAllInDirectory(tmp.path());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->emptied_in_place);
  EXPECT_EQ(report->events_erased, 50);
  EXPECT_TRUE(report->removed_files.empty());
  auto store = EventStore::OpenInDirectory(tmp.path());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Read(TimeRange{})->empty());
}

// The marker saying the store holds generated events (synthetic_activity.h)
// goes with them, whether the store is emptied in place or deleted: a store
// erased and refilled from a collector must not be called synthetic, nor a
// later generate-activity add to the old count.
TEST(EraseAll, TakesTheSyntheticMarkerWithTheEvents) {
  for (const bool readable : {true, false}) {
    SCOPED_TRACE(readable ? "readable store" : "garbage store");
    testing::TempDir tmp;
    if (readable) {
      StoreEvents(tmp.path(), 5);
    } else {
      tmp.Write("events.db", "not a database");
    }
    tmp.Write(kSyntheticMarkerFile, R"({"generated":5,"stored":5,"persona":"dev"})");
    auto report = EraseAllInDirectory(tmp.path());
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(report->emptied_in_place, readable);
    EXPECT_FALSE(Exists(tmp.File(kSyntheticMarkerFile)));
  }
}

TEST(EraseAll, AGarbageStoreIsDeletedWithItsWalShmAndKey) {
  testing::TempDir tmp;
  StoreEvents(tmp.path(), 10);
  tmp.Write("events.db", std::string(8192, 'x'));
  tmp.Write("events.db-wal", "junk");
  tmp.Write("events.db-shm", "junk");
  auto report = EraseAllInDirectory(tmp.path());
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectStoreFilesGone(tmp.path(), *report);
}

TEST(EraseAll, AStoreWithTheWrongKeyIsDeleted) {
  testing::TempDir tmp;
  StoreEvents(tmp.path(), 10);
  const std::string key = tmp.File("store.key");
  ASSERT_EQ(::unlink(key.c_str()), 0);
  tmp.Write("store.key", std::string(64, 'a') + "\n");
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  ASSERT_FALSE(EventStore::OpenInDirectory(tmp.path()).ok()) << "the key must not open it";
  auto report = EraseAllInDirectory(tmp.path());
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectStoreFilesGone(tmp.path(), *report);
  EXPECT_NE(report->unreadable_reason.find("key"), std::string::npos) << report->unreadable_reason;
}

// The first page still opens, later pages fail their check when the rows
// are deleted: the erase falls back to deleting the files.
TEST(EraseAll, AStoreDamagedPastItsFirstPageIsDeleted) {
  testing::TempDir tmp;
  StoreEvents(tmp.path(), 5000);
  const std::string db = tmp.File("events.db");
  struct stat st {};
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  ASSERT_GT(st.st_size, 4 * 4096);
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    for (int64_t at = 4096; at + 64 < st.st_size; at += 4096) {
      f.seekp(at + 100);
      f.write("damage-damage-damage", 20);
    }
  }
  auto report = EraseAllInDirectory(tmp.path());
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectStoreFilesGone(tmp.path(), *report);
}

TEST(EraseAll, RemoveStoreFilesTakesEveryFileOfTheStoreAndNothingElse) {
  testing::TempDir tmp;
  auto none = RemoveStoreFiles(tmp.path());
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty()) << "nothing there is not an error";
  for (const char* name : {"events.db", "events.db-wal", "events.db-shm", "events.db-journal",
                           "store.key", "synthetic.json"}) {
    tmp.Write(name, "x");
  }
  tmp.Write("privacy_policy.json", "{}");
  auto removed = RemoveStoreFiles(tmp.path());
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->size(), 6u);
  EXPECT_FALSE(Exists(tmp.File("synthetic.json")));
  EXPECT_TRUE(Exists(tmp.File("privacy_policy.json"))) << "the owner's policy stays";
  EXPECT_FALSE(Exists(tmp.File("events.db-journal")));
}

}  // namespace
}  // namespace tacit
