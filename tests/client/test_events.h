#pragma once

// Random stored-form events for property tests.

#include <random>
#include <string>

#include "common/event.h"
#include "common/event_codec.h"

namespace tacit::testing {

inline Event RandomEvent(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto word = [&](int max_len) {
    std::string s;
    int n = 1 + pick(max_len);
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + pick(26)));
    return s;
  };
  Event e;
  e.kind = static_cast<EventKind>(1 + pick(kEventKindCount));
  e.time_ms = static_cast<int64_t>(rng() >> pick(64)) * (pick(5) == 0 ? -1 : 1);
  switch (e.kind) {
    case EventKind::kKeyPress:
    case EventKind::kKeyRelease:
      e.key_class = static_cast<KeyClass>(pick(kKeyClassCount));
      break;
    case EventKind::kShortcut:
      e.chord = "ctrl+" + word(3);
      break;
    case EventKind::kAppFocus:
      e.app = word(40);
      break;
    case EventKind::kShellCommand:
      e.command = word(20);
      break;
    default:
      e.x = QuantizeUnit(static_cast<float>(pick(100001)) / 100000.f);
      e.y = QuantizeUnit(static_cast<float>(pick(100001)) / 100000.f);
      e.screen_width = static_cast<uint16_t>(pick(65536));
      e.screen_height = static_cast<uint16_t>(pick(65536));
      if (e.kind == EventKind::kScroll) e.scroll = static_cast<ScrollDirection>(pick(5));
      if (e.kind != EventKind::kScroll && e.kind != EventKind::kMouseMove) {
        e.button = static_cast<MouseButton>(pick(4));
      }
  }
  return e;
}

}  // namespace tacit::testing
