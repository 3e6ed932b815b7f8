#include "client/importers/importers.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/importers/line_reader.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
#include "tests/support/shared_data.h"

namespace tacit {
namespace {

using testing::CountLines;
using testing::ReadAll;
using testing::TempDir;

struct Counted {
  ImportReport report;
  int64_t events = 0;
  absl::Status status;
};

Counted Import(DataFormat format, const std::string& path, OnBadLine mode = OnBadLine::kStop) {
  Counted c;
  ImportOptions options;
  options.on_bad_line = mode;
  auto report = ImportFile(format, path, options, [&](const RawEvent&) {
    ++c.events;
    return absl::OkStatus();
  });
  c.status = report.status();
  if (report.ok()) c.report = *report;
  return c;
}

// Every person's event count equals what the files hold: SEA one command per
// line, Aalto a press and a release per data row, Balabit one event per row.
TEST(ImportersOnRealData, SeaCountsMatchTheFiles) {
  TACIT_REQUIRE_SHARED_DATA(dir, "sea-commands");
  auto people = ListPeople(DataFormat::kSeaCommands, dir);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 40u);
  for (const PersonLogs& p : *people) {
    Counted c = Import(DataFormat::kSeaCommands, p.files[0]);
    ASSERT_TRUE(c.status.ok()) << c.status;
    EXPECT_EQ(c.events, CountLines(p.files[0])) << p.person_id;
    EXPECT_EQ(c.events, 15000) << p.person_id;
  }
}

TEST(ImportersOnRealData, AaltoCountsMatchTheFilesForAll150People) {
  TACIT_REQUIRE_SHARED_DATA(dir, "aalto-keystrokes");
  auto people = ListPeople(DataFormat::kAaltoKeystrokes, dir);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 150u);
  int64_t rows = 0;
  for (const PersonLogs& p : *people) {
    Counted c = Import(DataFormat::kAaltoKeystrokes, p.files[0]);
    ASSERT_TRUE(c.status.ok()) << c.status;
    EXPECT_EQ(c.events, 2 * (CountLines(p.files[0]) - 1)) << p.person_id;
    rows += c.events / 2 + 1;
  }
  EXPECT_EQ(rows, 110807) << "data rows plus one header per file, as in the README";
}

TEST(ImportersOnRealData, BalabitCountsMatchTheFiles) {
  TACIT_REQUIRE_SHARED_DATA(dir, "balabit-mouse");
  auto people = ListPeople(DataFormat::kBalabitMouse, dir);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 10u);
  int64_t total = 0;
  for (const PersonLogs& p : *people) {
    for (const std::string& f : p.files) {
      Counted c = Import(DataFormat::kBalabitMouse, f);
      ASSERT_TRUE(c.status.ok()) << c.status;
      EXPECT_EQ(c.events, CountLines(f) - 1) << f;
      total += c.events;
    }
  }
  EXPECT_EQ(total, 267474);
}

// Corrupted copies of real files: each kind of damage gives a precise error
// in stop mode and exactly one counted skip in skip mode.
struct Damage {
  const char* what;
  std::string line;
  const char* expected_message;
};

void CheckDamage(DataFormat format, const std::string& real_file,
                 const std::vector<Damage>& damages) {
  std::vector<std::string> lines = absl::StrSplit(ReadAll(real_file), '\n');
  ASSERT_GT(lines.size(), 200u);
  lines.resize(200);  // a header (if any) and 199 good lines
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.what);
    TempDir tmp;
    std::vector<std::string> bad = lines;
    bad.insert(bad.begin() + 100, d.line);  // becomes line 101
    std::string path = tmp.Write("damaged", absl::StrJoin(bad, "\n") + "\n");
    Counted good = Import(format, tmp.Write("good", absl::StrJoin(lines, "\n") + "\n"));
    ASSERT_TRUE(good.status.ok()) << good.status;

    Counted stop = Import(format, path, OnBadLine::kStop);
    ASSERT_FALSE(stop.status.ok());
    EXPECT_EQ(stop.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(stop.status.message().find(path + ":101: "), std::string::npos) << stop.status;
    EXPECT_NE(stop.status.message().find(d.expected_message), std::string::npos) << stop.status;

    Counted skip = Import(format, path, OnBadLine::kSkip);
    ASSERT_TRUE(skip.status.ok()) << skip.status;
    EXPECT_EQ(skip.report.skipped_lines, 1);
    EXPECT_EQ(skip.events, good.events);
    ASSERT_EQ(skip.report.first_problems.size(), 1u);
  }
}

TEST(ImportersOnCorruptedCopies, Aalto) {
  TACIT_REQUIRE_SHARED_DATA(dir, "aalto-keystrokes");
  const std::string real = dir + "/1002_keystrokes.txt";
  std::vector<std::string> fields =
      absl::StrSplit(std::vector<std::string>(absl::StrSplit(ReadAll(real), '\n'))[5], '\t');
  std::string good = absl::StrJoin(fields, "\t");
  std::vector<std::string> bad_number = fields;
  bad_number[5] = "14719x8496904";
  CheckDamage(DataFormat::kAaltoKeystrokes, real,
              {{"truncated line", good.substr(0, good.size() / 2), "columns"},
               {"extra column", good + "\textra", "expected 9 columns"},
               {"bad number", absl::StrJoin(bad_number, "\t"), "PRESS_TIME '14719x8496904'"},
               {"binary junk", std::string("\x00\x01\xff\xfe junk", 9), "binary data"},
               {"huge line", std::string(100000, 'a'), "longer than"}});
}

TEST(ImportersOnCorruptedCopies, Balabit) {
  TACIT_REQUIRE_SHARED_DATA(dir, "balabit-mouse");
  auto people = ListPeople(DataFormat::kBalabitMouse, dir);
  ASSERT_TRUE(people.ok());
  CheckDamage(DataFormat::kBalabitMouse, (*people)[0].files[0],
              {{"truncated line", "12.5,12.4,NoBu", "columns"},
               {"wrong columns", "1,2,NoButton,Move,3", "expected 6 columns"},
               {"bad number", "1.0,1.0,NoButton,Move,abc,3", "x 'abc'"},
               {"bad state", "1.0,1.0,Left,Hover,3,4", "state 'Hover'"},
               {"binary junk", "\x7f\x45LF\x02\x01", "binary data"},
               {"invalid utf8", "1.0,1.0,\xc3(,Move,3,4", "invalid UTF-8"}});
}

TEST(ImportersOnCorruptedCopies, Sea) {
  TACIT_REQUIRE_SHARED_DATA(dir, "sea-commands");
  CheckDamage(DataFormat::kSeaCommands, dir + "/User0",
              {{"empty line", "", "empty line"},
               {"two words", "ls -la", "more than one word"},
               {"binary junk", std::string("\x00\x00\x00", 3), "binary data"}});
}

TEST(Importers, WrongHeaderStopsEvenWhenSkipping) {
  TempDir tmp;
  std::string path = tmp.Write("x.csv", "a,b,c\n1,2,3\n");
  Counted c = Import(DataFormat::kBalabitMouse, path, OnBadLine::kSkip);
  ASSERT_FALSE(c.status.ok());
  EXPECT_NE(c.status.message().find(":1: expected the header"), std::string::npos) << c.status;
}

TEST(Importers, JsonLinesRoundTripAndErrors) {
  TempDir tmp;
  std::string path = tmp.Write(
      "alice.jsonl",
      R"({"v":1,"t":1700000000000,"kind":"key_press","key":"c","mods":["ctrl"],"app":"Code"})"
      "\n"
      R"({"t":1700000000100,"kind":"mouse_down","button":"left","x":960,"y":540,"screen_w":1920,"screen_h":1080})"
      "\n"
      R"({"t":1700000000200,"kind":"shell_command","command":"git push origin main","title":"x"})"
      "\n"
      R"({"t":1700000000300,"kind":"scroll","scroll":"down","x":0.5,"y":0.5,"secure":false})"
      "\n");
  std::vector<RawEvent> events;
  auto report = ImportFile(DataFormat::kJsonLines, path, {}, [&](const RawEvent& e) {
    events.push_back(e);
    return absl::OkStatus();
  });
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].modifiers, kModCtrl);
  EXPECT_EQ(events[1].button, MouseButton::kLeft);
  EXPECT_EQ(events[1].x, 960);
  EXPECT_EQ(events[2].command_line, "git push origin main");
  EXPECT_EQ(events[3].scroll, ScrollDirection::kDown);

  for (const auto& [line, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"t":1,"kind":"key_press","colour":1})", "unknown field \"colour\""},
           {R"({"kind":"key_press"})", "missing field \"t\""},
           {R"({"t":1,"kind":"typing"})", "unknown event kind 'typing'"},
           {R"({"t":"soon","kind":"key_press"})", "\"t\" must be an integer"},
           {R"({"t":1,"kind":"key_press","mods":["hyper"]})", "mods"},
           {R"({"t":1,"kind":)", "not valid JSON"},
           {"[1,2]", "not a JSON object"}}) {
    std::string bad = tmp.Write("bad.jsonl", line + "\n");
    Counted c = Import(DataFormat::kJsonLines, bad);
    ASSERT_FALSE(c.status.ok()) << line;
    EXPECT_NE(c.status.message().find(message), std::string::npos) << c.status;
    EXPECT_NE(c.status.message().find("bad.jsonl:1: "), std::string::npos) << c.status;
  }
}

TEST(Importers, MaxEventsStopsEarlyAndMissingFilesAreNotFound) {
  TempDir tmp;
  std::string path = tmp.Write("User1", "ls\ncd\nvi\nmake\n");
  ImportOptions options;
  options.max_events = 2;
  int n = 0;
  auto report = ImportFile(DataFormat::kSeaCommands, path, options, [&](const RawEvent& e) {
    EXPECT_EQ(e.time_ms, n * 1000);
    ++n;
    return absl::OkStatus();
  });
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(n, 2);
  EXPECT_EQ(Import(DataFormat::kSeaCommands, tmp.File("nope")).status.code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ListPeople(DataFormat::kAaltoKeystrokes, tmp.path()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(ParseDataFormat("csv").ok());
}

TEST(LineReader, HandlesLongLinesCrlfAndAMissingFinalNewline) {
  TempDir tmp;
  std::string contents = "a\r\n" + std::string(5000, 'x') + "\nb\n\nlast";
  std::string path = tmp.Write("lines", contents);
  auto reader = LineReader::Open(path, 1000);
  ASSERT_TRUE(reader.ok());
  std::vector<std::string> got;
  absl::string_view line;
  bool too_long = false;
  while (reader->Next(&line, &too_long)) got.push_back(too_long ? "<long>" : std::string(line));
  EXPECT_EQ(got, (std::vector<std::string>{"a", "<long>", "b", "", "last"}));
  // A line spanning many read chunks is skipped with bounded memory.
  path = tmp.Write("huge", std::string(3 << 20, 'y') + "\nok\n");
  auto huge = LineReader::Open(path, 1000);
  ASSERT_TRUE(huge.ok());
  ASSERT_TRUE(huge->Next(&line, &too_long));
  EXPECT_TRUE(too_long);
  ASSERT_TRUE(huge->Next(&line, &too_long));
  EXPECT_EQ(line, "ok");
  EXPECT_EQ(huge->line_number(), 2);
}

}  // namespace
}  // namespace tacit

namespace tacit {
namespace {

// Property: random damage anywhere (flipped, inserted, deleted bytes; cut
// files) never crashes an importer; skipping always finishes, and stopping
// either finishes or names a line of the file.
TEST(ImportersOnCorruptedCopies, RandomDamageNeverCrashes) {
  TACIT_REQUIRE_SHARED_DATA(dir, "balabit-mouse");
  const std::string data = dir.substr(0, dir.size() - std::string("/balabit-mouse").size());
  const std::vector<std::pair<DataFormat, std::string>> sources = {
      {DataFormat::kSeaCommands, data + "/sea-commands/User0"},
      {DataFormat::kAaltoKeystrokes, data + "/aalto-keystrokes/1002_keystrokes.txt"},
      {DataFormat::kBalabitMouse, data + "/balabit-mouse/user12/session_9838420452"}};
  std::mt19937_64 rng(2024);
  TempDir tmp;
  for (const auto& [format, file] : sources) {
    std::string original = ReadAll(file).substr(0, 20000);
    for (int round = 0; round < 40; ++round) {
      std::string damaged = original;
      const int edits = 1 + static_cast<int>(rng() % 20);
      for (int k = 0; k < edits && !damaged.empty(); ++k) {
        size_t at = rng() % damaged.size();
        switch (rng() % 4) {
          case 0:
            damaged[at] = static_cast<char>(rng());
            break;
          case 1:
            damaged.insert(at, 1 + rng() % 8, static_cast<char>(rng()));
            break;
          case 2:
            damaged.erase(at, 1 + rng() % 30);
            break;
          default:
            damaged.resize(at);
        }
      }
      const std::string path = tmp.Write("damaged", damaged);
      Counted skip = Import(format, path, OnBadLine::kSkip);
      if (format != DataFormat::kSeaCommands && !skip.status.ok()) {
        // Only a damaged header stops a skipping import.
        EXPECT_NE(skip.status.message().find(":1: "), std::string::npos) << skip.status;
      } else {
        EXPECT_TRUE(skip.status.ok()) << skip.status;
      }
      Counted stop = Import(format, path, OnBadLine::kStop);
      if (!stop.status.ok()) {
        EXPECT_NE(stop.status.message().find(path + ":"), std::string::npos) << stop.status;
      }
    }
  }
}

}  // namespace
}  // namespace tacit
