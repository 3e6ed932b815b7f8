#include "client/privacy_filter.h"

#include <random>

#include "client/generator/fleet_generator.h"
#include "client/privacy_policy.h"
#include "common/event_codec.h"
#include "gtest/gtest.h"
#include "tests/client/raw_events.h"

namespace tacit {
namespace {

using testing::Key;

TEST(KeyClass, EveryClassFromLabelsAndCodes) {
  EXPECT_EQ(KeyClassOf("a"), KeyClass::kLetter);
  EXPECT_EQ(KeyClassOf("Z"), KeyClass::kLetter);
  EXPECT_EQ(KeyClassOf("\xc3\xa9"), KeyClass::kLetter) << "é";
  EXPECT_EQ(KeyClassOf("7"), KeyClass::kDigit);
  EXPECT_EQ(KeyClassOf("NUM_4"), KeyClass::kDigit);
  EXPECT_EQ(KeyClassOf(" "), KeyClass::kWhitespace);
  EXPECT_EQ(KeyClassOf("TAB"), KeyClass::kWhitespace);
  EXPECT_EQ(KeyClassOf("."), KeyClass::kPunctuation);
  EXPECT_EQ(KeyClassOf("BKSP"), KeyClass::kBackspaceDelete);
  EXPECT_EQ(KeyClassOf("DELETE"), KeyClass::kBackspaceDelete);
  EXPECT_EQ(KeyClassOf("ENTER"), KeyClass::kEnter);
  EXPECT_EQ(KeyClassOf("ARW_LEFT"), KeyClass::kNavigation);
  EXPECT_EQ(KeyClassOf("ARw_DOWN"), KeyClass::kNavigation);
  EXPECT_EQ(KeyClassOf("HOME"), KeyClass::kNavigation);
  EXPECT_EQ(KeyClassOf("SHIFT"), KeyClass::kModifier);
  EXPECT_EQ(KeyClassOf("CAPS_LOCK"), KeyClass::kModifier);
  EXPECT_EQ(KeyClassOf("F5"), KeyClass::kFunction);
  EXPECT_EQ(KeyClassOf("ESC"), KeyClass::kFunction);
  EXPECT_EQ(KeyClassOf("", 84), KeyClass::kLetter);
  EXPECT_EQ(KeyClassOf("", 50), KeyClass::kDigit);
  EXPECT_EQ(KeyClassOf("", 8), KeyClass::kBackspaceDelete);
  EXPECT_EQ(KeyClassOf("", 190), KeyClass::kPunctuation);
  EXPECT_EQ(KeyClassOf("WHATEVER"), KeyClass::kOther);
}

TEST(PrivacyFilter, TypedKeysBecomeClassesAndChordsStayExact) {
  PrivacyFilter filter;
  auto letter = filter.Apply(Key("q"));
  ASSERT_TRUE(letter.has_value());
  EXPECT_EQ(letter->kind, EventKind::kKeyPress);
  EXPECT_EQ(letter->key_class, KeyClass::kLetter);
  EXPECT_TRUE(letter->chord.empty());
  auto shifted = filter.Apply(Key("Q", kModShift));
  ASSERT_TRUE(shifted.has_value());
  EXPECT_EQ(shifted->kind, EventKind::kKeyPress) << "shift+letter is typing, not a chord";
  auto copy = filter.Apply(Key("c", kModCtrl));
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->kind, EventKind::kShortcut);
  EXPECT_EQ(copy->chord, "ctrl+c");
  auto palette = filter.Apply(Key("P", kModCtrl | kModShift));
  EXPECT_EQ(palette->chord, "ctrl+shift+p");
  auto tab = filter.Apply(Key("ARW_LEFT", kModAlt | kModMeta));
  EXPECT_EQ(tab->chord, "alt+meta+left");
  RawEvent redo = Key("\x19", kModCtrl);  // Aalto logs ctrl+y as 0x19 with key code 89
  redo.key_code = 89;
  EXPECT_EQ(filter.Apply(redo)->chord, "ctrl+y");
  auto odd = filter.Apply(Key("\xc3\xa9", kModCtrl));
  EXPECT_EQ(odd->chord, "ctrl+key") << "non-ASCII never enters a chord";
}

TEST(PrivacyFilter, SecureInputDropsEverything) {
  PrivacyFilter filter;
  for (EventKind kind : {EventKind::kKeyPress, EventKind::kMouseDown, EventKind::kAppFocus}) {
    RawEvent e = Key("x");
    e.kind = kind;
    e.secure_input = true;
    EXPECT_FALSE(filter.Apply(e).has_value());
  }
  EXPECT_EQ(filter.counts().dropped_secure_input, 3);
  EXPECT_EQ(filter.counts().kept, 0);
}

TEST(PrivacyFilter, DenyListAndAllowListMode) {
  PrivacyFilter deny;  // defaults deny password managers
  RawEvent e = Key("a");
  e.app = "/Applications/1Password.app";
  EXPECT_FALSE(deny.Apply(e).has_value());
  e.app = "KeePassXC.exe";
  EXPECT_FALSE(deny.Apply(e).has_value());
  e.app = "Code";
  EXPECT_TRUE(deny.Apply(e).has_value());
  EXPECT_EQ(deny.counts().dropped_by_app, 2);

  auto policy =
      ParsePrivacyPolicyJson(R"({"app_mode":"allow_list","allow_apps":["Code","Excel"]})");
  ASSERT_TRUE(policy.ok()) << policy.status();
  PrivacyFilter allow(*policy);
  EXPECT_TRUE(allow.Apply(e).has_value());
  e.app = "Slack";
  EXPECT_FALSE(allow.Apply(e).has_value());
  e.app = "";
  EXPECT_FALSE(allow.Apply(e).has_value()) << "unknown app is not on the allow list";
}

TEST(PrivacyFilter, TitlesAndArgumentsAreNeverKept) {
  PrivacyFilter filter;
  RawEvent focus;
  focus.kind = EventKind::kAppFocus;
  focus.app = "Microsoft Excel";
  focus.window_title = "Salaries 2026.xlsx";
  auto f = filter.Apply(focus);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->app, "microsoft-excel");
  EXPECT_EQ(EncodeEvent(*f).find("Salaries"), std::string::npos);

  RawEvent cmd;
  cmd.kind = EventKind::kShellCommand;
  cmd.command_line = "TOKEN=hunter2 /usr/bin/curl -u admin:secret https://x";
  auto c = filter.Apply(cmd);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->command, "curl");
  EXPECT_EQ(CommandName("=="), kUnknownCommand) << "SEA's == is no name (client/command_name.h)";
  EXPECT_EQ(CommandName("["), "[");
  EXPECT_EQ(CommandName("  "), "");
  cmd.command_line = "   ";
  EXPECT_FALSE(filter.Apply(cmd).has_value());
}

TEST(PrivacyFilter, PolicySwitchesForReleasesMovesAndShortcuts) {
  auto policy = ParsePrivacyPolicyJson(
      R"({"keep_shortcuts":false,"keep_key_releases":false,"keep_mouse_moves":false})");
  ASSERT_TRUE(policy.ok());
  PrivacyFilter filter(*policy);
  auto chord = filter.Apply(Key("c", kModCtrl));
  ASSERT_TRUE(chord.has_value());
  EXPECT_EQ(chord->kind, EventKind::kKeyPress);
  EXPECT_EQ(chord->key_class, KeyClass::kLetter);
  RawEvent release = Key("c");
  release.kind = EventKind::kKeyRelease;
  EXPECT_FALSE(filter.Apply(release).has_value());
  RawEvent move;
  move.kind = EventKind::kMouseMove;
  EXPECT_FALSE(filter.Apply(move).has_value());
}

TEST(PrivacyPolicy, DefaultsRoundTripAndErrorsNameTheKey) {
  auto parsed = ParsePrivacyPolicyJson(DefaultPrivacyPolicyJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->deny_apps, PrivacyPolicy().deny_apps);
  auto typo = ParsePrivacyPolicyJson(R"({"keep_shortcut":true})", "policy.json");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("keep_shortcut"), std::string::npos);
  EXPECT_NE(typo.status().message().find("policy.json"), std::string::npos);
  EXPECT_FALSE(ParsePrivacyPolicyJson(R"({"keep_mouse_moves":"yes"})").ok());
  EXPECT_FALSE(ParsePrivacyPolicyJson(R"({"app_mode":"allow_list"})").ok());
  EXPECT_FALSE(ParsePrivacyPolicyJson("[1,2]").ok());
}

// Property: random typed text, titles and command arguments (marked with a
// sentinel alphabet that no stored field could produce) never survive.
TEST(PrivacyFilter, NoLetterDigitOrArgumentSurvives) {
  std::mt19937_64 rng(99);
  PrivacyFilter filter;
  const std::string kSecret = "QZXJVKWQZXJ";
  int64_t kept = 0;
  for (int i = 0; i < 20000; ++i) {
    RawEvent e;
    e.kind = static_cast<EventKind>(1 + rng() % kEventKindCount);
    std::string typed(1, static_cast<char>(32 + rng() % 95));
    e.key = rng() % 5 == 0 ? "" : typed;
    e.key_code = static_cast<int>(rng() % 256);
    e.modifiers = static_cast<uint8_t>(rng() % 3 == 0 ? kModShift : 0);
    e.window_title = kSecret + typed;
    e.command_line = "ls " + kSecret + " -" + typed + " 12345";
    e.app = "Term " + std::to_string(rng() % 3);
    e.x = static_cast<double>(rng() % 4000);
    e.y = static_cast<double>(rng() % 4000);
    e.screen_width = 1920;
    e.screen_height = 1080;
    auto out = filter.Apply(e);
    if (!out) continue;
    ++kept;
    std::string bytes = EncodeEvent(*out);
    ASSERT_EQ(bytes.find(kSecret), std::string::npos);
    ASSERT_EQ(bytes.find("12345"), std::string::npos);
    if (out->kind == EventKind::kKeyPress || out->kind == EventKind::kKeyRelease) {
      // Only the class remains: the encoding is version, kind, time, class.
      ASSERT_TRUE(out->chord.empty() && out->app.empty() && out->command.empty());
    }
    if (out->kind == EventKind::kShellCommand) {
      ASSERT_EQ(out->command, "ls");
    }
    ASSERT_LE(out->x, 1.f);
  }
  EXPECT_GT(kept, 15000);
}

TEST(PrivacyFilter, GeneratedTypingLeavesOnlyClasses) {
  FleetGenerator fleet(3);
  PrivacyFilter filter;
  int letters = 0;
  ASSERT_TRUE(fleet
                  .Generate(2, 20000,
                            [&](const RawEvent& raw) {
                              auto e = filter.Apply(raw);
                              if (e && e->key_class == KeyClass::kLetter) ++letters;
                              if (e && e->kind == EventKind::kAppFocus) {
                                EXPECT_EQ(e->app.find(' '), std::string::npos);
                              }
                              return absl::OkStatus();
                            })
                  .ok());
  EXPECT_GT(letters, 1000);
  EXPECT_GT(filter.counts().dropped_secure_input, 0) << "support agents type passwords";
}

}  // namespace
}  // namespace tacit
