// Imported times outside [1990-01-01, import + 1 day] are bad lines: a time
// in year 292 million would keep its event past every retention window.

#include <limits>

#include "client/importers/importers.h"
#include "client/importers/time_window.h"
#include "client/store/event_store.h"
#include "client/store/store_import.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
#include "tests/support/shared_data.h"

namespace tacit {
namespace {

constexpr int64_t kNowMs = 1767571200000;  // 2026-01-05
constexpr int64_t kDayMs = 24LL * 3600 * 1000;
const char kAaltoHeader[] =
    "PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\tPRESS_TIME\t"
    "RELEASE_TIME\tLETTER\tKEYCODE\n";

std::string AaltoRow(int64_t press) {
  return "1\t2\tx\ty\t3\t" + std::to_string(press) + "\t" + std::to_string(press + 80) +
         "\ta\t65\n";
}

std::string JsonLine(int64_t t) {
  return "{\"t\":" + std::to_string(t) + ",\"kind\":\"key_press\",\"key\":\"a\"}\n";
}

struct Result {
  absl::StatusOr<ImportReport> report;
  int64_t events = 0;
};

Result Import(DataFormat format, const std::string& path, OnBadLine on_bad_line) {
  ImportOptions options;
  options.now_ms = kNowMs;
  options.on_bad_line = on_bad_line;
  Result r;
  r.report = ImportFile(format, path, options, [&](const RawEvent&) {
    ++r.events;
    return absl::OkStatus();
  });
  return r;
}

TEST(ImportTimes, DatesOutsideTheWindowAreBadLinesNamingFileAndLine) {
  testing::TempDir tmp;
  const int64_t good = kNowMs - 1000;
  for (const auto& [bad_time, message] : std::vector<std::pair<int64_t, std::string>>{
           {std::numeric_limits<int64_t>::max() - 100, "(292278994-"},  // year 292 million
           {std::numeric_limits<int64_t>::max() / 4, "more than a day after the import"},
           {kNowMs + 2 * kDayMs, "more than a day after the import (2026-01-05 00:00:00 UTC)"},
           {-5, "is before 1990-01-01"},
           {0, "is before 1990-01-01"},
           {kEarliestEventMs - 1, "1989-12-31 23:59:59 UTC"}}) {
    SCOPED_TRACE(bad_time);
    const std::string aalto =
        tmp.Write("a_keystrokes.txt",
                  kAaltoHeader + AaltoRow(good) + AaltoRow(bad_time) + AaltoRow(good + 100));
    Result stopped = Import(DataFormat::kAaltoKeystrokes, aalto, OnBadLine::kStop);
    ASSERT_FALSE(stopped.report.ok());
    EXPECT_NE(stopped.report.status().message().find("a_keystrokes.txt:3: event time"),
              std::string::npos)
        << stopped.report.status();
    EXPECT_NE(stopped.report.status().message().find(message), std::string::npos)
        << stopped.report.status();
    Result skipped = Import(DataFormat::kAaltoKeystrokes, aalto, OnBadLine::kSkip);
    ASSERT_TRUE(skipped.report.ok()) << skipped.report.status();
    EXPECT_EQ(skipped.report->skipped_lines, 1);
    EXPECT_EQ(skipped.events, 4) << "the other rows import";

    if (bad_time > std::numeric_limits<int64_t>::max() / 4) continue;  // the jsonl range check
    const std::string jsonl = tmp.Write("p.jsonl", JsonLine(good) + JsonLine(bad_time));
    Result json = Import(DataFormat::kJsonLines, jsonl, OnBadLine::kStop);
    ASSERT_FALSE(json.report.ok());
    EXPECT_NE(json.report.status().message().find("p.jsonl:2: event time"), std::string::npos)
        << json.report.status();
  }
  // The edges are inside.
  const std::string edges = tmp.Write(
      "e.jsonl", JsonLine(kEarliestEventMs) + JsonLine(kNowMs + kLatestEventAfterImportMs));
  Result inside = Import(DataFormat::kJsonLines, edges, OnBadLine::kStop);
  EXPECT_TRUE(inside.report.ok()) << inside.report.status();
  EXPECT_EQ(inside.events, 2);
}

// One corrupt time must not decide the shift of --times now for the file.
TEST(ImportTimes, LatestEventTimeSkipsTimesOutsideTheWindow) {
  testing::TempDir tmp;
  const std::string path = tmp.Write(
      "p.jsonl", JsonLine(kNowMs - 5000) + JsonLine(kNowMs * 1000) + JsonLine(kNowMs - 4000));
  ImportOptions options;
  options.now_ms = kNowMs;
  options.on_bad_line = OnBadLine::kSkip;
  auto latest = LatestEventTime(DataFormat::kJsonLines, path, options);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, kNowMs - 4000);
  options.on_bad_line = OnBadLine::kStop;
  EXPECT_FALSE(LatestEventTime(DataFormat::kJsonLines, path, options).ok());
}

// Relative times (SEA, Balabit) are offsets: they import only once placed
// in time, and the shifted times are checked like dates.
TEST(ImportTimes, RelativeTimesMustBePlacedInTheWindowBeforeTheyAreStored) {
  testing::TempDir tmp;
  const std::string sea = tmp.Write("User1", "ls\ncd\nvi\n");
  auto store = EventStore::OpenInDirectory(tmp.File("store"));
  ASSERT_TRUE(store.ok()) << store.status();
  StoreImportOptions keep;
  keep.import.now_ms = kNowMs;
  auto refused = ImportIntoStore(**store, DataFormat::kSeaCommands, sea, keep, PrivacyPolicy());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("User1:1: event time after the shift 0 ms"),
            std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("--times now"), std::string::npos);

  StoreImportOptions far = keep;
  far.shift_ms = std::numeric_limits<int64_t>::max() - 500;
  auto overflow = ImportIntoStore(**store, DataFormat::kSeaCommands, sea, far, PrivacyPolicy());
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.status().message().find("User1:1: "), std::string::npos) << overflow.status();
  auto empty = (*store)->Read(TimeRange{});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty()) << "a refused import stores nothing";

  StoreImportOptions now = keep;
  now.shift_ms = kNowMs - 2000;
  auto placed = ImportIntoStore(**store, DataFormat::kSeaCommands, sea, now, PrivacyPolicy());
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(placed->stored, 3);
  auto events = (*store)->Read(TimeRange{});
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->back().time_ms, kNowMs);
}

TEST(ImportTimes, RealDataStillImports) {
  TACIT_REQUIRE_SHARED_DATA(aalto, "aalto-keystrokes");
  auto people = ListPeople(DataFormat::kAaltoKeystrokes, aalto);
  ASSERT_TRUE(people.ok()) << people.status();
  int64_t events = 0;
  for (const PersonLogs& person : *people) {
    ImportOptions options;  // the wall clock as the import time
    auto report =
        ImportFile(DataFormat::kAaltoKeystrokes, person.files[0], options, [&](const RawEvent&) {
          ++events;
          return absl::OkStatus();
        });
    ASSERT_TRUE(report.ok()) << report.status();
  }
  EXPECT_EQ(events, 2 * (110807 - 150)) << "every Aalto row of every person";

  TACIT_REQUIRE_SHARED_DATA(sea, "sea-commands");
  TACIT_REQUIRE_SHARED_DATA(balabit, "balabit-mouse");
  testing::TempDir tmp;
  auto store = EventStore::OpenInDirectory(tmp.path());
  ASSERT_TRUE(store.ok()) << store.status();
  for (const auto& [format, path] : std::vector<std::pair<DataFormat, std::string>>{
           {DataFormat::kSeaCommands, sea + "/User0"},
           {DataFormat::kBalabitMouse, balabit + "/user7"},
           {DataFormat::kAaltoKeystrokes, aalto + "/1002_keystrokes.txt"}}) {
    std::string file = path;
    if (format == DataFormat::kBalabitMouse) {
      auto sessions = ListPeople(format, balabit);
      ASSERT_TRUE(sessions.ok());
      file = (*sessions)[0].files[0];
    }
    StoreImportOptions options;
    options.import.now_ms = kNowMs;
    auto latest = LatestEventTime(format, file, options.import);
    ASSERT_TRUE(latest.ok()) << latest.status();
    options.shift_ms = kNowMs - *latest;  // what `tacit-client import` does by default
    auto report = ImportIntoStore(**store, format, file, options, PrivacyPolicy());
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(report->file.skipped_lines, 0);
    EXPECT_GT(report->stored, 0);
  }
}

}  // namespace
}  // namespace tacit
