// The command filter: a first word is stored only when it looks like a
// command name, and for a live shell only when the shell could run it.

#include "client/command_name.h"

#include <sys/stat.h>

#include <random>

#include "client/known_commands.h"
#include "client/privacy_filter.h"
#include "gtest/gtest.h"
#include "tests/client/raw_events.h"
#include "tests/client/temp_dir.h"

namespace tacit {
namespace {

const std::string kUnknown(kUnknownCommand);
using testing::Key;

// <tmp>/bin holding the executables `names` (mode 0700) and a non-executable
// notes.txt and a folder subdir.
std::string MakeBin(const testing::TempDir& tmp, const std::vector<std::string>& names) {
  const std::string bin = tmp.File("bin");
  EXPECT_EQ(::mkdir(bin.c_str(), 0700), 0);
  for (const std::string& name : names) {
    tmp.Write("bin/" + name, "#!/bin/sh\n");
    EXPECT_EQ(::chmod((bin + "/" + name).c_str(), 0700), 0);
  }
  tmp.Write("bin/notes.txt", "not executable\n");
  EXPECT_EQ(::mkdir((bin + "/subdir").c_str(), 0700), 0);
  return bin;
}

TEST(CommandName, KeepsPlainNamesWithoutPathOrArguments) {
  EXPECT_EQ(CommandName("git commit -m 'secret'"), "git");
  EXPECT_EQ(CommandName("/usr/bin/git push"), "git");
  EXPECT_EQ(CommandName("./configure --prefix=/opt"), "configure");
  EXPECT_EQ(CommandName("~/bin/backup.sh now"), "backup.sh");
  EXPECT_EQ(CommandName("x86_64-linux-gnu-gcc-12 -O2 a.c"), "x86_64-linux-gnu-gcc-12");
  EXPECT_EQ(CommandName("g++ main.cc"), "g++");
  EXPECT_EQ(CommandName("python3.11 -m venv .venv"), "python3.11");
  EXPECT_EQ(CommandName("[ -f x ]"), "[");
  EXPECT_EQ(CommandName("[[ -n $x ]]"), "[[");
  EXPECT_EQ(CommandName("MediaMai"), "MediaMai") << "SEA name, upper and lower case";
  EXPECT_EQ(CommandName("4Dwm"), "4Dwm") << "SEA name, short";
  EXPECT_EQ(CommandName("  "), "");
  EXPECT_EQ(CommandName(""), "");
}

TEST(CommandName, AssignmentsAreSkippedOnlyWhenTheirValueIsPlain) {
  EXPECT_EQ(CommandName("TOKEN=hunter2 /usr/bin/curl -u admin:secret https://x"), "curl");
  EXPECT_EQ(CommandName("A=1 B=2 make"), "make");
  // A line of assignments only: the value is the secret.
  EXPECT_EQ(CommandName("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG"), kUnknown);
  EXPECT_EQ(CommandName("PASS=a b"), "b") << "unquoted: b is the command bash runs";
  // With quotes or escapes the word after may still belong to the value.
  EXPECT_EQ(CommandName("PASS='my secret' deploy"), kUnknown);
  EXPECT_EQ(CommandName("PASS=\"my secret\" deploy"), kUnknown);
  EXPECT_EQ(CommandName("PASS=my\\ secret deploy"), kUnknown);
  EXPECT_EQ(CommandName("PASS=$(cat f) deploy"), kUnknown);
}

TEST(CommandName, ValuesUrlsQuotesAndPasswordsAreNeverStored) {
  for (const char* line : {"https://user:pw@example.com/x",
                           "user:pw@host",
                           "'secret value' more",
                           "\"quoted\"",
                           "`id`",
                           "$(whoami)",
                           "pa$$word",
                           "s3cr=t",
                           "==",
                           "=",
                           "%backup%",
                           "a;b",
                           "a|b",
                           "café",
                           "-rf",
                           ".",
                           "..",
                           "Tr0ub4dor",
                           "AKIAIOSFODNN7EXAMPLE",
                           "ghp_Ab1cd2EF3gh4",
                           "abcdefghijklmnopqrstuvwxyz0123456789",
                           "scp:file",
                           "git@github.com:x/y"}) {
    EXPECT_EQ(CommandName(line), kUnknown) << line;
  }
}

// Any word outside the command alphabet is never stored verbatim, whatever
// is around it.
TEST(CommandName, RandomWordsWithAValueCharacterAreReplaced) {
  std::mt19937_64 rng(20260105);
  const std::string names = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-";
  const std::string marks = "=:@'\"`$\\;|&<>(){}*?!#%^,~[]";
  for (int trial = 0; trial < 5000; ++trial) {
    std::string word;
    const size_t length = 1 + rng() % 40;
    for (size_t i = 0; i < length; ++i) word += names[rng() % names.size()];
    word.insert(rng() % (word.size() + 1), 1, marks[rng() % marks.size()]);
    const std::string line = (rng() % 2 ? "" : "X=1 ") + word + (rng() % 2 ? "" : " arg");
    const std::string name = CommandName(line);
    // "arg" when the word is a plain NAME=value assignment: then arg is the command.
    EXPECT_TRUE(name == kUnknown || name == "arg") << line << " -> " << name;
  }
}

TEST(KnownCommands, PathBuiltinsAliasesAndNothingElse) {
  testing::TempDir tmp;
  const std::string bin = MakeBin(tmp, {"deploy"});
  KnownCommands known("relative:" + bin + "::/nonexistent", {"ll", "mkcd"});
  EXPECT_TRUE(known.Knows("deploy"));
  EXPECT_FALSE(known.Knows("notes.txt")) << "not executable";
  EXPECT_FALSE(known.Knows("subdir")) << "a folder";
  EXPECT_TRUE(known.Knows("cd"));
  EXPECT_TRUE(known.Knows("export"));
  EXPECT_TRUE(known.Knows("["));
  EXPECT_TRUE(known.Knows("ll"));
  EXPECT_TRUE(known.Knows("mkcd"));
  EXPECT_FALSE(known.Knows("hunter2"));
  EXPECT_FALSE(known.Knows("../bin/deploy"));
  EXPECT_FALSE(known.Knows(""));
}

TEST(PrivacyFilter, LiveShellKeepsOnlyNamesTheShellCouldRun) {
  testing::TempDir tmp;
  const std::string bin = MakeBin(tmp, {"git"});
  PrivacyFilter filter;
  filter.VerifyCommandsWith(std::make_shared<KnownCommands>(bin, std::vector<std::string>{"gs"}));
  RawEvent cmd;
  cmd.kind = EventKind::kShellCommand;
  for (const auto& [line, stored] : std::vector<std::pair<std::string, std::string>>{
           {"git status", "git"},
           {"/usr/local/bin/git log", "git"},
           {"gs", "gs"},
           {"cd /tmp", "cd"},
           {"hunter2", kUnknown},  // a password typed at the prompt
           {"correcthorsebatterystaple", kUnknown},
           {"TOKEN=x git push", "git"},
           {"TOKEN=x", kUnknown}}) {
    cmd.command_line = line;
    auto e = filter.Apply(cmd);
    ASSERT_TRUE(e.has_value()) << line;
    EXPECT_EQ(e->command, stored) << line;
  }
  EXPECT_EQ(filter.counts().replaced_command_names, 3);
  EXPECT_EQ(filter.counts().kept, 8);
}

// alt+q is "@" on a German keyboard: typing, so a class, never a chord.
TEST(PrivacyFilter, AltAndAltGrTypingBecomesKeyClasses) {
  PrivacyFilter filter;
  for (const auto& [label, mods, key_class] :
       std::vector<std::tuple<std::string, uint8_t, KeyClass>>{
           {"q", kModAlt, KeyClass::kLetter},
           {"P", kModAlt | kModShift, KeyClass::kLetter},
           {"7", kModAlt, KeyClass::kDigit},
           {"[", kModAlt, KeyClass::kPunctuation},
           {"e", kModCtrl | kModAlt, KeyClass::kLetter},  // Windows AltGr
           {"\xc3\xa9", kModAlt, KeyClass::kLetter}}) {
    auto e = filter.Apply(Key(label, mods));
    ASSERT_TRUE(e.has_value()) << label;
    EXPECT_EQ(e->kind, EventKind::kKeyPress) << label;
    EXPECT_EQ(e->key_class, key_class) << label;
    EXPECT_TRUE(e->chord.empty()) << label << " -> " << e->chord;
  }
  RawEvent by_code = Key("", kModAlt);
  by_code.key_code = 81;  // q
  EXPECT_TRUE(filter.Apply(by_code)->chord.empty());
  // Named keys with alt, and anything with meta or ctrl alone, stay chords.
  EXPECT_EQ(filter.Apply(Key("TAB", kModAlt))->chord, "alt+tab");
  EXPECT_EQ(filter.Apply(Key("F4", kModAlt))->chord, "alt+f4");
  EXPECT_EQ(filter.Apply(Key("ARW_LEFT", kModAlt))->chord, "alt+left");
  EXPECT_EQ(filter.Apply(Key("i", kModAlt | kModMeta))->chord, "alt+meta+i");
  EXPECT_EQ(filter.Apply(Key("c", kModCtrl))->chord, "ctrl+c");
  EXPECT_EQ(filter.Apply(Key("v", kModMeta))->chord, "meta+v");
  EXPECT_EQ(filter.Apply(Key("DELETE", kModCtrl | kModAlt))->chord, "ctrl+alt+delete");
}

TEST(PrivacyFilter, AppNamesThatAreNotPlainNamesAreReplaced) {
  PrivacyFilter filter;
  RawEvent focus;
  focus.kind = EventKind::kAppFocus;
  for (const auto& [app, stored] : std::vector<std::pair<std::string, std::string>>{
           {"/Applications/Visual Studio Code.app", "visual-studio-code"},
           {"C:\\Program Files\\Mozilla Firefox\\firefox.exe", "firefox"},
           {"gnome-terminal-server", "gnome-terminal-server"},
           {"https://user:pw@host/app", std::string(kUnknownApp)},
           {"pw@host", std::string(kUnknownApp)},
           {"TOKEN=abc", std::string(kUnknownApp)},
           {"'secret'", std::string(kUnknownApp)},
           {"Caf\xc3\xa9", std::string(kUnknownApp)},
           {std::string(65, 'a'), std::string(kUnknownApp)}}) {
    focus.app = app;
    auto e = filter.Apply(focus);
    ASSERT_TRUE(e.has_value()) << app;
    EXPECT_EQ(e->app, stored) << app;
  }
  EXPECT_EQ(filter.counts().replaced_app_names, 6);
}

}  // namespace
}  // namespace tacit
