// Secrets typed into every field of every import format, and into the
// filter's API, must not reach the encrypted store: not in a decrypted row,
// not in the bytes of the database or its WAL. Each secret holds a canary
// (random lower-case letters, new each run); the test then searches for it.

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <random>

#include "client/command_name.h"
#include "client/importers/importers.h"
#include "client/privacy_filter.h"
#include "client/store/event_store.h"
#include "client/store/store_import.h"
#include "common/event_codec.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"
#include "tests/support/shared_data.h"
#include "tests/support/test_seed.h"

namespace tacit {
namespace {

constexpr int64_t kNowMs = 1767571200000;  // 2026-01-05
const std::string kNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-";
// Characters that mark a value, a URL or shell syntax.
const std::string kValueMarks = "=:@'\"`$\\;|&<>(){}*?!#%^,~[]";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Random secrets around one canary. Secrets for fields that hold a name
// (command, app, SEA line) carry something that marks them as not a name;
// secrets for fields that are never stored can be anything.
class Secrets {
 public:
  explicit Secrets(uint64_t seed) : rng_(seed) {
    for (int i = 0; i < 12; ++i) canary_ += static_cast<char>('a' + rng_() % 26);
  }
  const std::string& canary() const { return canary_; }

  std::string Chars(const std::string& alphabet, size_t max_length) {
    std::string s;
    const size_t length = rng_() % (max_length + 1);
    for (size_t i = 0; i < length; ++i) s += alphabet[rng_() % alphabet.size()];
    return s;
  }
  std::string WithCanary(const std::string& alphabet, size_t max_length) {
    return Chars(alphabet, max_length) + canary_ + Chars(alphabet, max_length);
  }

  // A command line (no tabs or newlines; `one_word`: no spaces either).
  std::string CommandLine(bool one_word) {
    const std::string any = kNameChars + kValueMarks + "/";
    for (;;) {
      std::string s;
      switch (rng_() % 8) {
        case 0:  // an assignment on its own
          s = "API_TOKEN=" + WithCanary(kNameChars, 20);
          break;
        case 1:  // an assignment with a quoted value before a command
          s = "PASS='" + WithCanary(kNameChars + " ", 10) + "' deploy --now";
          break;
        case 2:  // a URL with credentials
          s = (rng_() % 2 ? "https://admin:" + WithCanary(kNameChars, 8) + "@example.com/x"
                          : "ftp://" + WithCanary(kNameChars, 8) + ":pw@host");
          break;
        case 3:  // a quoted first word
          s = (rng_() % 2 ? "'" : "\"") + WithCanary(kNameChars + " ", 10) + "' arg";
          break;
        case 4: {  // a generated password typed at the prompt
          s = WithCanary(kNameChars + kValueMarks, 8);
          s.insert(rng_() % (s.size() + 1), 1, static_cast<char>('A' + rng_() % 26));
          s.insert(rng_() % (s.size() + 1), 1, static_cast<char>('0' + rng_() % 10));
          break;
        }
        case 5: {  // random alphabet, at least one character marking a value
          s = WithCanary(any, 16);
          s.insert(rng_() % (s.size() + 1), 1, kValueMarks[rng_() % kValueMarks.size()]);
          break;
        }
        case 6:  // too long for a command name
          s = WithCanary(kNameChars, 30) + std::string(kMaxCommandNameBytes, 'x');
          break;
        default:  // a name with a credential after '@'
          s = "git@" + WithCanary(kNameChars, 6) + ":repo.git";
          break;
      }
      if (!one_word || s.find(' ') == std::string::npos) return s;
    }
  }

  // An app name with a secret: whatever marks it as not a plain name. A
  // leading "X:" alone does not: "x:/abc" is a Windows path to an app named
  // "abc", and is stored as one (StoredAppId); nor does a backslash, the
  // Windows folder separator ("abc\\secret" is an app named "secret").
  std::string AppName() {
    std::string marks = kValueMarks;
    marks.erase(std::remove(marks.begin(), marks.end(), '\\'), marks.end());
    for (;;) {
      std::string s = CommandLine(false);
      const bool drive =
          s.size() >= 2 && s[1] == ':' && std::isalpha(static_cast<unsigned char>(s[0]));
      if (s.find_first_of(marks, drive ? 2 : 0) != std::string::npos) return s;
    }
  }

  // Anything with the canary, for fields that are never stored.
  std::string Text(bool allow_separators) {
    std::string alphabet = kNameChars + kValueMarks + " /\xc3\xa9";
    if (allow_separators) alphabet += "\t,";
    return WithCanary(alphabet, 24);
  }

  uint64_t Next() { return rng_(); }

 private:
  std::mt19937_64 rng_;
  std::string canary_;
};

using ::tacit::testing::TestSeed;

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// What the store holds, decrypted and on disk, must not contain the canary.
void ExpectNoCanary(EventStore& store, const std::string& db_path, const std::string& canary) {
  auto events = store.Read(TimeRange{});
  ASSERT_TRUE(events.ok()) << events.status();
  std::string chord_keys;  // the last character of each chord, in order
  for (const Event& e : *events) {
    EXPECT_EQ(Lower(EncodeEvent(e)).find(canary), std::string::npos)
        << "command '" << e.command << "' app '" << e.app << "' chord '" << e.chord << "'";
    if (!e.chord.empty()) chord_keys += e.chord.back();
  }
  EXPECT_EQ(Lower(chord_keys).find(canary), std::string::npos) << "chords spell the canary";
  for (const std::string& path : {db_path, db_path + "-wal"}) {
    const std::string bytes = Lower(testing::ReadAll(path));
    EXPECT_EQ(bytes.find(canary), std::string::npos) << path;
  }
}

struct FormatFile {
  DataFormat format;
  std::string contents;
};

// One file per format with secrets in every column or field.
std::vector<FormatFile> FilesWithSecrets(Secrets& s, int rows) {
  std::string sea, aalto, balabit, jsonl;
  aalto =
      "PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\tPRESS_TIME\t"
      "RELEASE_TIME\tLETTER\tKEYCODE\n";
  balabit = "record timestamp,client timestamp,button,state,x,y\n";
  int64_t t = 1471935809182;
  for (int i = 0; i < rows; ++i) {
    sea += s.CommandLine(/*one_word=*/true) + "\n";
    sea += "ls\n";
    // Aalto: secrets in the free-text columns; the LETTER column types the
    // canary with alt held (alt spans come from the ALT rows).
    const std::string letter(1, s.canary()[static_cast<size_t>(i) % s.canary().size()]);
    aalto += s.Text(false) + "\t" + s.Text(false) + "\t" + s.Text(false) + "\t" + s.Text(false) +
             "\t" + s.Text(false) + "\t" + std::to_string(t) + "\t" + std::to_string(t + 500) +
             "\tALT\t18\n";
    aalto += "1\t2\tx\ty\t3\t" + std::to_string(t + 10) + "\t" + std::to_string(t + 20) + "\t" +
             letter + "\t" + std::to_string(65 + (letter[0] - 'a')) + "\n";
    // After the alt span: a key whose label is free text.
    aalto += "1\t2\tx\ty\t3\t" + std::to_string(t + 600) + "\t" + std::to_string(t + 700) + "\t" +
             s.Text(false) + "\t0\n";
    t += 1000;
    // Balabit: the unparsed client timestamp, and a bad button (skipped line).
    balabit += std::to_string(i) + ".5," + s.Text(false) + ",NoButton,Move,10,20\n";
    balabit += std::to_string(i) + ".6,0," + s.Text(false) + ",Pressed,10,20\n";
    // jsonl: every string field; the canary typed with alt and ctrl+alt.
    const int64_t jt = kNowMs - 100000 + i * 10;
    jsonl += "{\"t\":" + std::to_string(jt) +
             ",\"kind\":\"shell_command\",\"command\":" + JsonString(s.CommandLine(false)) +
             ",\"app\":" + JsonString(s.AppName()) + ",\"title\":" + JsonString(s.Text(true)) +
             "}\n";
    jsonl += "{\"t\":" + std::to_string(jt + 1) +
             ",\"kind\":\"app_focus\",\"app\":" + JsonString(s.AppName()) +
             ",\"title\":" + JsonString(s.Text(true)) + "}\n";
    jsonl += "{\"t\":" + std::to_string(jt + 2) +
             ",\"kind\":\"key_press\",\"key\":" + JsonString(letter) + ",\"mods\":[" +
             (i % 2 ? "\"alt\"" : "\"ctrl\",\"alt\"") + "],\"app\":\"Code\"}\n";
    jsonl += "{\"t\":" + std::to_string(jt + 3) +
             ",\"kind\":\"key_press\",\"key\":" + JsonString(s.Text(true)) +
             ",\"mods\":[\"shift\"],\"app\":" + JsonString(s.CommandLine(false)) +
             ",\"title\":" + JsonString(s.Text(true)) + "}\n";
  }
  return {{DataFormat::kSeaCommands, sea},
          {DataFormat::kAaltoKeystrokes, aalto},
          {DataFormat::kBalabitMouse, balabit},
          {DataFormat::kJsonLines, jsonl}};
}

TEST(SecretCanary, NoSecretFromAnyImporterFieldReachesTheStore) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (int round = 0; round < 3; ++round) {
    Secrets secrets(seed + static_cast<uint64_t>(round));
    SCOPED_TRACE("canary " + secrets.canary());
    testing::TempDir tmp;
    auto store = EventStore::OpenInDirectory(tmp.path());
    ASSERT_TRUE(store.ok()) << store.status();
    const int rows = 20 + static_cast<int>(secrets.Next() % 60);
    int64_t stored = 0;
    for (const FormatFile& file : FilesWithSecrets(secrets, rows)) {
      const std::string path = tmp.Write(std::string(DataFormatName(file.format)), file.contents);
      StoreImportOptions options;
      options.import.on_bad_line = OnBadLine::kSkip;
      options.import.now_ms = kNowMs;
      auto latest = LatestEventTime(file.format, path, options.import);
      ASSERT_TRUE(latest.ok()) << latest.status();
      options.shift_ms = kNowMs - *latest;
      auto report = ImportIntoStore(**store, file.format, path, options, PrivacyPolicy());
      ASSERT_TRUE(report.ok()) << DataFormatName(file.format) << ": " << report.status();
      EXPECT_GT(report->stored, 0) << DataFormatName(file.format);
      stored += report->stored;
    }
    EXPECT_GT(stored, 4 * rows);
    ExpectNoCanary(**store, (*store)->path(), secrets.canary());
    const std::string db_path = (*store)->path();
    store->reset();
    for (const std::string& path : {db_path, db_path + "-wal"}) {
      EXPECT_EQ(Lower(testing::ReadAll(path)).find(secrets.canary()), std::string::npos) << path;
    }
  }
}

TEST(SecretCanary, NoSecretGivenToTheFilterDirectlyReachesTheStore) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Secrets secrets(seed);
  SCOPED_TRACE("canary " + secrets.canary());
  testing::TempDir tmp;
  auto store = EventStore::OpenInDirectory(tmp.path());
  ASSERT_TRUE(store.ok()) << store.status();
  PrivacyFilter filter;
  std::vector<Event> kept;
  for (int i = 0; i < 3000; ++i) {
    RawEvent raw;
    raw.time_ms = kNowMs + i;
    raw.kind = static_cast<EventKind>(1 + secrets.Next() % kEventKindCount);
    raw.key_code = static_cast<int>(secrets.Next() % 256);
    raw.modifiers = static_cast<uint8_t>(secrets.Next() % 16);
    if (secrets.Next() % 2) {
      raw.key = secrets.Text(true);
    } else {  // the canary typed with alt or AltGr (ctrl+alt) held
      raw.key = std::string(1, secrets.canary()[static_cast<size_t>(i) % 12]);
      raw.modifiers = static_cast<uint8_t>(kModAlt | (secrets.Next() % 2 ? kModCtrl : 0));
    }
    raw.app = secrets.AppName();
    raw.window_title = secrets.Text(true);
    raw.command_line = secrets.CommandLine(false);
    raw.x = 3;
    raw.screen_width = 10;
    raw.screen_height = 10;
    if (auto e = filter.Apply(raw)) kept.push_back(*e);
  }
  ASSERT_GT(kept.size(), 1000u);
  ASSERT_TRUE((*store)->Append(kept).ok());
  ExpectNoCanary(**store, (*store)->path(), secrets.canary());
}

// The filter must not cost the model its vocabulary: honest command lines,
// and every SEA command but its 5 odd names, keep their names.
TEST(SecretCanary, HonestCommandsStillImport) {
  for (const auto& [line, name] : std::vector<std::pair<std::string, std::string>>{
           {"git status", "git"},
           {"sudo apt-get install -y libssl-dev", "sudo"},
           {"/usr/bin/python3 -m pytest tests/", "python3"},
           {"./gradlew build", "gradlew"},
           {"LANG=C sort file.txt", "sort"},
           {"docker-compose up -d", "docker-compose"},
           {"g++ -O2 main.cc", "g++"},
           {"clang-format-15 -i a.cc", "clang-format-15"},
           {"kubectl get pods -n prod", "kubectl"},
           {"vim ~/.bashrc", "vim"},
           {"[ -d build ] && make", "["},
           {"cd ..", "cd"},
           {"ls -la", "ls"},
           {"npm run build", "npm"},
           {"ssh user@host", "ssh"},
           {"curl https://user:pw@host", "curl"}}) {
    EXPECT_EQ(CommandName(line), name) << line;
  }
  TACIT_REQUIRE_SHARED_DATA(sea, "sea-commands");
  auto people = ListPeople(DataFormat::kSeaCommands, sea);
  ASSERT_TRUE(people.ok()) << people.status();
  int64_t commands = 0, replaced = 0;
  for (const PersonLogs& person : *people) {
    auto report = ImportFile(DataFormat::kSeaCommands, person.files[0], {}, [&](const RawEvent& e) {
      ++commands;
      const std::string name = CommandName(e.command_line);
      if (name == e.command_line) return absl::OkStatus();
      ++replaced;
      EXPECT_EQ(name, kUnknownCommand);
      for (const char* odd : {"==", "=", "=p", "%backup%", "maker5X."}) {
        if (e.command_line == odd) return absl::OkStatus();
      }
      ADD_FAILURE() << "SEA command '" << e.command_line << "' is not kept";
      return absl::OkStatus();
    });
    ASSERT_TRUE(report.ok()) << report.status();
  }
  EXPECT_EQ(commands, 600000);
  EXPECT_LE(replaced, 10) << "odd SEA names replaced";
}

}  // namespace
}  // namespace tacit
