#include "client/store/event_store.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <random>

#include "common/event_codec.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
#include "tests/client/test_events.h"
#include "tests/support/test_seed.h"

namespace tacit {
namespace {

using testing::ReadAll;
using testing::TempDir;

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kJan5 = 1767571200000;  // 2026-01-05 00:00 UTC

Event At(int64_t time_ms, EventKind kind) {
  Event e;
  e.time_ms = time_ms;
  e.kind = kind;
  if (kind == EventKind::kAppFocus) e.app = "code";
  if (kind == EventKind::kShellCommand) e.command = "make";
  if (kind == EventKind::kKeyPress) e.key_class = KeyClass::kLetter;
  return e;
}

std::unique_ptr<EventStore> OpenOrDie(const std::string& dir) {
  auto store = EventStore::OpenInDirectory(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(EventStore, AppendsAndReadsByTimeRangeAndKind) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.path());
  ASSERT_NE(store, nullptr);
  std::mt19937_64 rng(5);
  std::vector<Event> events;
  for (int i = 0; i < 3000; ++i) {
    Event e = testing::RandomEvent(rng);
    e.time_ms = kJan5 + static_cast<int64_t>(rng() % (10 * kDay));
    events.push_back(e);
  }
  ASSERT_TRUE(store->Append(events).ok());
  TimeRange range{kJan5 + 2 * kDay, kJan5 + 5 * kDay};
  auto got = store->Read(range, {EventKind::kMouseMove, EventKind::kShortcut});
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<Event> expected;
  for (const Event& e : events) {
    if (e.time_ms >= range.begin_ms && e.time_ms < range.end_ms &&
        (e.kind == EventKind::kMouseMove || e.kind == EventKind::kShortcut)) {
      expected.push_back(e);
    }
  }
  std::stable_sort(expected.begin(), expected.end(),
                   [](const Event& a, const Event& b) { return a.time_ms < b.time_ms; });
  ASSERT_EQ(got->size(), expected.size());
  EXPECT_GT(expected.size(), 100u);
  EXPECT_EQ(*got, expected);
  auto all = store->Read(TimeRange{});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3000u);
}

TEST(EventStore, FileHoldsNoPlaintextAndTheKeyFileIsPrivate) {
  TempDir tmp;
  std::vector<Event> events;
  Event marker = At(kJan5, EventKind::kAppFocus);
  marker.app = "plaintext-marker-app";
  for (int i = 0; i < 2000; ++i) events.push_back(marker);
  {
    auto store = OpenOrDie(tmp.path());
    ASSERT_TRUE(store->Append(events).ok());
    std::string db = ReadAll(tmp.File("events.db")) + ReadAll(tmp.File("events.db-wal"));
    EXPECT_GT(db.size(), 4096u);
    EXPECT_EQ(db.find("plaintext-marker-app"), std::string::npos);
    EXPECT_EQ(db.find(EncodeEvent(marker)), std::string::npos);
    EXPECT_EQ(db.find("SQLite format 3"), std::string::npos);
    EXPECT_EQ(db.find("CREATE TABLE"), std::string::npos);
  }
  struct stat st {};
  ASSERT_EQ(::stat(tmp.File("store.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(tmp.File("events.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
}

TEST(EventStore, WrongKeyAndLooseKeyFileAreRefusedClearly) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.path());
    ASSERT_TRUE(store->Append({At(kJan5, EventKind::kKeyPress)}).ok());
  }
  auto other = GenerateSecretKey();
  ASSERT_TRUE(other.ok());
  auto wrong = EventStore::Open(tmp.File("events.db"), *other);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("key does not match"), std::string::npos);

  ASSERT_EQ(::chmod(tmp.File("store.key").c_str(), 0644), 0);
  auto loose = EventStore::OpenInDirectory(tmp.path());
  ASSERT_FALSE(loose.ok());
  EXPECT_NE(loose.status().message().find("chmod 600"), std::string::npos) << loose.status();
  ASSERT_EQ(::chmod(tmp.File("store.key").c_str(), 0600), 0);
  auto right = EventStore::OpenInDirectory(tmp.path());
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_EQ((*right)->Read(TimeRange{})->size(), 1u);

  tmp.Write("bad.key", "not hex at all");
  ::chmod(tmp.File("bad.key").c_str(), 0600);
  EXPECT_EQ(ReadKeyFile(tmp.File("bad.key")).status().code(), absl::StatusCode::kDataLoss);
}

// Sets TZ for the test's lifetime (libc reads it through tzset).
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const std::string& zone) {
    const char* old = std::getenv("TZ");
    if (old != nullptr) saved_ = old;
    had_ = old != nullptr;
    ::setenv("TZ", zone.c_str(), 1);
    ::tzset();
  }
  ~ScopedTimeZone() {
    if (had_) {
      ::setenv("TZ", saved_.c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::string saved_;
  bool had_ = false;
};

TEST(EventStore, RetentionEraseAndCountsByKindAndDay) {
  ScopedTimeZone utc("UTC");
  TempDir tmp;
  auto store = OpenOrDie(tmp.path());
  std::vector<Event> events;
  for (int day = 0; day < 40; ++day) {
    for (int i = 0; i < 10; ++i) {
      events.push_back(
          At(kJan5 + day * kDay + i * 1000, i < 7 ? EventKind::kKeyPress : EventKind::kAppFocus));
    }
  }
  ASSERT_TRUE(store->Append(events).ok());
  auto summary = store->Summary();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->events, 400);
  EXPECT_EQ(summary->retention_days, 30);
  ASSERT_EQ(summary->counts.size(), 80u);
  EXPECT_EQ(summary->counts[0].day, "2026-01-05");
  EXPECT_EQ(summary->counts[0].kind, EventKind::kKeyPress);
  EXPECT_EQ(summary->counts[0].count, 7);
  EXPECT_EQ(summary->counts[1].kind, EventKind::kAppFocus);
  EXPECT_EQ(summary->counts[1].count, 3);

  // Now is the start of day 40: 30-day retention keeps days 10..39.
  auto removed = store->EnforceRetention(kJan5 + 40 * kDay);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 100);
  EXPECT_EQ(store->Summary()->first_ms, kJan5 + 10 * kDay);

  ASSERT_TRUE(store->SetRetentionDays(7).ok());
  EXPECT_FALSE(store->SetRetentionDays(0).ok());
  store.reset();
  store = OpenOrDie(tmp.path());
  EXPECT_EQ(store->retention_days(), 7) << "retention is persisted";
  EXPECT_EQ(*store->EnforceRetention(kJan5 + 40 * kDay), 230);

  auto erased = store->EraseRange({kJan5 + 35 * kDay, kJan5 + 37 * kDay});
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(*erased, 20);
  EXPECT_EQ(store->Read({kJan5 + 35 * kDay, kJan5 + 37 * kDay})->size(), 0u);
  EXPECT_EQ(*store->EraseAll(), 50);
  EXPECT_EQ(store->Summary()->events, 0);
}

// Issue 19: the store counted per UTC day while `audit` and `erase` speak
// the employee's local days. Random events over two months that cross DST
// changes, in a random zone (half-hour and 45-minute offsets, both
// hemispheres, a zone without DST): the summary's days are libc's own
// local day of each event, counted event by event.
TEST(EventStore, CountsPerDayOfTheLaptopsOwnCalendar) {
  const std::vector<std::string> zones = {
      "America/Los_Angeles", "Europe/Berlin",    "Asia/Kolkata",   "Pacific/Chatham",
      "Australia/Sydney",    "America/St_Johns", "Asia/Kathmandu", "UTC"};
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 4; ++trial) {
    const std::string zone = zones[rng() % zones.size()];
    SCOPED_TRACE(zone);
    ScopedTimeZone tz(zone);
    TempDir tmp;
    auto store = OpenOrDie(tmp.path());
    ASSERT_NE(store, nullptr);
    // 2026-03-01 .. 2026-05-01 UTC: northern spring-forward and southern
    // fall-back both fall inside.
    const int64_t begin = 1772323200000;
    std::vector<Event> events;
    const int n = 200 + static_cast<int>(rng() % 2000);
    for (int i = 0; i < n; ++i) {
      const auto kind = (rng() % 2) != 0U ? EventKind::kKeyPress : EventKind::kAppFocus;
      events.push_back(At(begin + static_cast<int64_t>(rng() % (61 * kDay)), kind));
    }
    ASSERT_TRUE(store->Append(events).ok());
    std::map<std::pair<std::string, int>, int64_t> expected;
    for (const Event& e : events) {
      const auto seconds = static_cast<time_t>(e.time_ms / 1000);
      struct tm local {};
      localtime_r(&seconds, &local);
      char day[16];
      strftime(day, sizeof day, "%Y-%m-%d", &local);
      ++expected[{day, static_cast<int>(e.kind)}];
    }
    auto summary = store->Summary();
    ASSERT_TRUE(summary.ok()) << summary.status();
    std::map<std::pair<std::string, int>, int64_t> got;
    for (const KindDayCount& c : summary->counts) {
      EXPECT_EQ(got.count({c.day, static_cast<int>(c.kind)}), 0U) << c.day << " listed twice";
      got[{c.day, static_cast<int>(c.kind)}] = c.count;
    }
    EXPECT_EQ(got, expected);
  }
}

TEST(EventStore, UncommittedWriterRollsBackAndOnlyOneWriterAtATime) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.path());
  {
    auto writer = store->StartWriter();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Add(At(kJan5, EventKind::kKeyPress)).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
    ASSERT_TRUE((*writer)->Add(At(kJan5 + 1, EventKind::kKeyPress)).ok());
    EXPECT_FALSE(store->StartWriter().ok());
    EXPECT_FALSE(store->EraseAll().ok());
  }
  EXPECT_EQ(store->Read(TimeRange{})->size(), 1u);
}

// A writer process is killed (SIGKILL) in the middle of a transaction; the
// reopened store has every committed batch, whole, and nothing torn.
TEST(EventStore, SurvivesAWriterKilledMidWrite) {
  TempDir tmp;
  constexpr int kBatch = 500;
  {
    auto store = OpenOrDie(tmp.path());
    std::vector<Event> earlier(1000, At(kJan5 - kDay, EventKind::kShellCommand));
    ASSERT_TRUE(store->Append(earlier).ok());
  }
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    auto store = EventStore::OpenInDirectory(tmp.path());
    if (!store.ok()) ::_exit(2);
    auto writer = (*store)->StartWriter();
    for (int64_t batch = 0;; ++batch) {
      for (int i = 0; i < kBatch; ++i) {
        if (!(*writer)->Add(At(kJan5 + batch * kBatch + i, EventKind::kKeyPress)).ok()) ::_exit(3);
      }
      if (!(*writer)->Commit().ok()) ::_exit(4);
      int64_t committed = (batch + 1) * kBatch;
      if (::write(pipe_fds[1], &committed, sizeof committed) != sizeof committed) ::_exit(5);
    }
  }
  ::close(pipe_fds[1]);
  int64_t committed = 0;
  while (committed < 20 * kBatch) {
    ASSERT_EQ(::read(pipe_fds[0], &committed, sizeof committed),
              static_cast<ssize_t>(sizeof committed));
  }
  ::usleep(3000);  // let it get into the next transaction
  ::kill(child, SIGKILL);
  int wstatus = 0;
  ::waitpid(child, &wstatus, 0);
  ::close(pipe_fds[0]);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the writer must have been killed, not have failed";

  auto store = OpenOrDie(tmp.path());
  ASSERT_NE(store, nullptr);
  auto earlier = store->Read({kJan5 - kDay, kJan5});
  ASSERT_TRUE(earlier.ok()) << earlier.status();
  EXPECT_EQ(earlier->size(), 1000u) << "data stored before the crash is intact";
  auto written = store->Read({kJan5, kJan5 + kDay});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_GE(static_cast<int64_t>(written->size()), committed);
  EXPECT_EQ(written->size() % kBatch, 0u) << "no transaction is half there";
  for (size_t i = 0; i < written->size(); ++i) {
    ASSERT_EQ((*written)[i].time_ms, kJan5 + static_cast<int64_t>(i));
  }
  ASSERT_TRUE(store->Append({At(kJan5 + kDay, EventKind::kKeyPress)}).ok()) << "still writable";
}

}  // namespace
}  // namespace tacit
