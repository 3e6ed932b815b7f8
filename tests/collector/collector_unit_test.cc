// The collector's parts that need no X server: keysym labels (classified by
// the privacy filter as the importers' labels are), modifier tracking with
// AltGr, the grab rule of the pipeline, sessions, the heartbeat.

#include <X11/keysym.h>

#include <random>

#include "client/collector/collection_pipeline.h"
#include "client/collector/display_session.h"
#include "client/collector/heartbeat.h"
#include "client/collector/key_label.h"
#include "client/collector/server_clock.h"
#include "client/privacy_filter.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"

namespace tacit::collector {
namespace {

TEST(KeyLabel, AsciiKeysymsGetTheClassOfTheirCharacter) {
  for (uint32_t ks = 0x20; ks <= 0x7e; ++ks) {
    const char c = static_cast<char>(ks);
    const KeyClass expected = std::isalpha(static_cast<unsigned char>(c))   ? KeyClass::kLetter
                              : std::isdigit(static_cast<unsigned char>(c)) ? KeyClass::kDigit
                              : c == ' '                                    ? KeyClass::kWhitespace
                                         : KeyClass::kPunctuation;
    EXPECT_EQ(KeyClassOf(KeyLabel(ks)), expected) << "keysym 0x" << std::hex << ks;
  }
}

TEST(KeyLabel, NamedKeysHaveTheImportersClassesAndChordNames) {
  struct Case {
    uint32_t keysym;
    KeyClass key_class;
    const char* chord_name;
  };
  for (const Case& c : std::vector<Case>{{XK_BackSpace, KeyClass::kBackspaceDelete, "backspace"},
                                         {XK_Delete, KeyClass::kBackspaceDelete, "delete"},
                                         {XK_Return, KeyClass::kEnter, "enter"},
                                         {XK_KP_Enter, KeyClass::kEnter, "enter"},
                                         {XK_Tab, KeyClass::kWhitespace, "tab"},
                                         {XK_Left, KeyClass::kNavigation, "left"},
                                         {XK_Page_Down, KeyClass::kNavigation, "pagedown"},
                                         {XK_Shift_R, KeyClass::kModifier, "shift"},
                                         {XK_Control_L, KeyClass::kModifier, "ctrl"},
                                         {XK_ISO_Level3_Shift, KeyClass::kModifier, "alt"},
                                         {XK_Super_L, KeyClass::kModifier, "meta"},
                                         {XK_Escape, KeyClass::kFunction, "esc"},
                                         {XK_KP_7, KeyClass::kDigit, "7"},
                                         {XK_KP_Add, KeyClass::kPunctuation, "+"},
                                         {XK_eacute, KeyClass::kLetter, "key"},
                                         {0x1000430, KeyClass::kLetter, "key"},  // Cyrillic a
                                         {XK_Cyrillic_a, KeyClass::kLetter, "key"},
                                         {0x1008ff12, KeyClass::kOther, "key"}}) {  // AudioMute
    EXPECT_EQ(KeyClassOf(KeyLabel(c.keysym)), c.key_class) << std::hex << c.keysym;
    EXPECT_EQ(ChordKeyName(KeyLabel(c.keysym)), c.chord_name) << std::hex << c.keysym;
  }
  for (uint32_t f = 1; f <= 24; ++f) {
    EXPECT_EQ(KeyClassOf(KeyLabel(XK_F1 + f - 1)), KeyClass::kFunction);
    EXPECT_EQ(ChordKeyName(KeyLabel(XK_F1 + f - 1)), "f" + std::to_string(f));
  }
}

// What the filter stores for keysyms pressed in order (every press and
// release goes through LiveKeyboard, as in the collector).
std::vector<Event> Press(const std::vector<std::pair<uint32_t, bool>>& keys) {
  LiveKeyboard keyboard;
  PrivacyFilter filter;
  std::vector<Event> out;
  for (const auto& [keysym, press] : keys) {
    if (auto e = filter.Apply(keyboard.Key(keysym, press, 1000))) out.push_back(*e);
  }
  return out;
}

TEST(LiveKeyboard, CtrlChordsAreShortcutsAndAltGrTypingIsTyping) {
  std::vector<Event> ctrl_c = Press({{XK_Control_L, true}, {XK_c, true}});
  ASSERT_EQ(ctrl_c.size(), 2u);
  EXPECT_EQ(ctrl_c[1].kind, EventKind::kShortcut);
  EXPECT_EQ(ctrl_c[1].chord, "ctrl+c");
  // AltGr+q is '@' on a German layout: typing, never the chord "alt+q".
  for (uint32_t altgr : {XK_ISO_Level3_Shift, XK_Mode_switch, XK_Alt_R}) {
    std::vector<Event> at = Press({{altgr, true}, {XK_q, true}});
    ASSERT_EQ(at.size(), 2u);
    EXPECT_EQ(at[1].kind, EventKind::kKeyPress) << std::hex << altgr;
    EXPECT_EQ(at[1].key_class, KeyClass::kLetter);
    EXPECT_TRUE(at[1].chord.empty());
  }
}

TEST(LiveKeyboard, ModifiersAreHeldPerKeyAndReleasedForGood) {
  LiveKeyboard k;
  k.Key(XK_Shift_L, true, 0);
  k.Key(XK_Shift_R, true, 0);
  k.Key(XK_Shift_L, false, 0);
  EXPECT_EQ(k.Key(XK_a, true, 0).modifiers, kModShift) << "right shift still held";
  k.Key(XK_Shift_R, false, 0);
  k.Key(XK_Control_L, false, 0);  // a release whose press the collector never saw
  EXPECT_EQ(k.Key(XK_a, true, 0).modifiers, 0);
  k.Key(XK_Control_L, true, 0);
  EXPECT_EQ(k.Key(XK_a, true, 0).modifiers, kModCtrl);
}

RawEvent Letter(int64_t t, const std::string& app = "editor") {
  RawEvent e;
  e.time_ms = t;
  e.key = "x";
  e.app = app;
  return e;
}

// Property: an offered event is stored iff collection was not paused when it
// came and the grab checks just before and just after it both found no grab.
TEST(CollectionPipeline, KeepsExactlyTheEventsBetweenTwoCleanGrabChecks) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    testing::TempDir dir;
    auto store = EventStore::OpenInDirectory(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    CollectionPipeline pipeline{PrivacyPolicy()};
    bool previous_grabbed = false, paused = false;
    int64_t waiting = 0, expected = 0;  // offered (unpaused) since the last check
    const int steps = 50 + static_cast<int>(rng() % 200);
    for (int i = 0; i < steps; ++i) {
      switch (rng() % 6) {
        case 0: {
          const bool grabbed = rng() % 3 == 0;
          if (!grabbed && !previous_grabbed) expected += waiting;
          waiting = 0;
          pipeline.GrabChecked(grabbed);
          previous_grabbed = grabbed;
          break;
        }
        case 1:
          paused = rng() % 4 == 0;
          if (paused) waiting = 0;  // pausing drops what waits for the check
          pipeline.SetPaused(paused);
          break;
        default:
          pipeline.Offer(Letter(1767571200000 + i));
          if (!paused) ++waiting;
      }
    }
    pipeline.GrabChecked(false);
    if (!previous_grabbed) expected += waiting;
    ASSERT_TRUE(pipeline.Flush(**store, 1).ok());
    EXPECT_EQ(pipeline.counts().stored, expected) << "seed " << seed;
    auto stored = (*store)->Read(TimeRange{});
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(static_cast<int64_t>(stored->size()), expected) << "seed " << seed;
  }
}

TEST(CollectionPipeline, NewDenyListAppliesToTheNextEvent) {
  testing::TempDir dir;
  auto store = EventStore::OpenInDirectory(dir.path());
  ASSERT_TRUE(store.ok());
  CollectionPipeline pipeline{PrivacyPolicy()};
  pipeline.Offer(Letter(1767571200000, "Notes"));
  PrivacyPolicy deny_notes;
  deny_notes.deny_apps = {"notes"};
  pipeline.SetPolicy(deny_notes);
  EXPECT_FALSE(pipeline.AllowsApp("Notes"));
  pipeline.Offer(Letter(1767571200001, "Notes"));
  pipeline.GrabChecked(false);
  ASSERT_TRUE(pipeline.Flush(**store, 1).ok());
  EXPECT_EQ(pipeline.counts().stored, 1);
  EXPECT_EQ(pipeline.filtered().dropped_by_app, 1);
}

TEST(CollectionPipeline, FocusOnADeniedAppDropsWhatWaitsForTheCheck) {
  testing::TempDir dir;
  auto store = EventStore::OpenInDirectory(dir.path());
  ASSERT_TRUE(store.ok());
  CollectionPipeline pipeline{PrivacyPolicy()};
  pipeline.Offer(Letter(1767571200000, "Notes"));
  pipeline.GrabChecked(false);
  pipeline.Offer(Letter(1767571200001, "Notes"));  // may have been typed into the vault
  pipeline.DeniedAppFocused();
  pipeline.GrabChecked(false);
  ASSERT_TRUE(pipeline.Flush(**store, 1).ok());
  EXPECT_EQ(pipeline.counts().stored, 1);
  EXPECT_EQ(pipeline.counts().dropped_before_denied_app, 1);
}

// Property: with random delivery delays (the socket read late), times keep
// the server's spacing once the least-delayed event was seen, never lie in
// the future, and survive the server clock's wrap at 2^32 ms.
TEST(ServerClock, EventTimesFollowTheServerNotTheReadTime) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    ServerClock clock;
    const int64_t offset = 1767571200000 + rng() % 1000000;
    uint32_t server = 0xffffffffu - rng() % 5000;  // wraps within the run
    int64_t previous = 0;
    for (int i = 0; i < 500; ++i) {
      server += 1 + rng() % 40;
      const int64_t true_wall =
          offset + static_cast<int64_t>(server) + (server < 0x80000000u ? (int64_t{1} << 32) : 0);
      const int64_t delay = i % 50 == 0 ? 0 : rng() % 30;  // now and then read at once
      const int64_t t = clock.ToWallMs(server, true_wall + delay);
      EXPECT_LE(t, true_wall + delay) << "seed " << seed;
      if (i % 50 != 0 && i > 50) {
        EXPECT_LE(t - true_wall, 30) << "seed " << seed;
      }
      if (i > 0 && i % 50 != 0) {
        EXPECT_GE(t, previous - 30) << "seed " << seed;
      }
      previous = t;
    }
  }
}

TEST(DisplaySession, SaysWhatWaylandHides) {
  EXPECT_EQ(ClassifySession(":0", nullptr, false), Session::kX11);
  EXPECT_EQ(ClassifySession(":0", "", false), Session::kX11);
  EXPECT_EQ(ClassifySession(":0", "wayland-0", false), Session::kXWayland);
  EXPECT_EQ(ClassifySession(":0", nullptr, true), Session::kXWayland);
  EXPECT_EQ(ClassifySession("", "wayland-0", false), Session::kWaylandOnly);
  EXPECT_EQ(ClassifySession(nullptr, nullptr, false), Session::kNoDisplay);
  EXPECT_EQ(SessionNote(Session::kX11), "");
  EXPECT_NE(SessionNote(Session::kXWayland).find("NOT collected"), std::string::npos);
  EXPECT_NE(SessionNote(Session::kWaylandOnly).find("only shell command names"), std::string::npos);
  EXPECT_NE(SessionNote(Session::kNoDisplay).find("only shell command names"), std::string::npos);
}

TEST(Heartbeat, RoundTripsAndGoesStale) {
  testing::TempDir dir;
  EXPECT_NE(DescribeHeartbeat(ReadHeartbeat(dir.path()), 0).find("has not run"), std::string::npos);
  Heartbeat h;
  h.pid = 42;
  h.display = ":3";
  h.collecting = "nothing: collection is paused (tacit-client resume)";
  h.paused = true;
  h.events_stored = 7;
  h.updated_ms = 1000000;
  ASSERT_TRUE(WriteHeartbeat(dir.path(), h).ok());
  auto read = ReadHeartbeat(dir.path());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->pid, 42);
  EXPECT_TRUE(read->paused);
  EXPECT_EQ(read->events_stored, 7);
  const std::string now = DescribeHeartbeat(read, 1000000 + kHeartbeatIntervalMs);
  EXPECT_NE(now.find("collecting now: nothing: collection is paused"), std::string::npos) << now;
  const std::string later = DescribeHeartbeat(read, 1000000 + 4 * kHeartbeatIntervalMs);
  EXPECT_NE(later.find("not running"), std::string::npos) << later;
}

}  // namespace
}  // namespace tacit::collector
