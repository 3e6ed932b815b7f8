#pragma once

// What a collector or importer sees BEFORE the privacy filter. It may hold
// typed characters, window titles and full command lines; it must never be
// stored, logged or sent anywhere. PrivacyFilter turns it into an Event.

#include <cstdint>
#include <string>

#include "common/event.h"

namespace tacit {

enum Modifier : uint8_t { kModCtrl = 1, kModAlt = 2, kModShift = 4, kModMeta = 8 };

struct RawEvent {
  int64_t time_ms = 0;
  // kKeyPress/kKeyRelease (typed keys), kMouse*/kDrag/kScroll, kAppFocus,
  // kShellCommand. kShortcut is derived by the filter from key + modifiers.
  EventKind kind = EventKind::kKeyPress;
  std::string key;        // the key's label: "a", "SHIFT", "BKSP", "F5", " "
  int key_code = 0;       // browser-style key code, used when `key` is empty
  uint8_t modifiers = 0;  // Modifier bits held when the key went down
  MouseButton button = MouseButton::kNone;
  ScrollDirection scroll = ScrollDirection::kNone;
  double x = 0, y = 0;  // pixels, or already in [0,1] when the screen size is 0
  int screen_width = 0, screen_height = 0;
  std::string app;            // app in focus (context for every kind)
  std::string window_title;   // never stored
  std::string command_line;   // full shell command line; only its name is stored
  bool secure_input = false;  // a password field or other secure input had focus
};

}  // namespace tacit
