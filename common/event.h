#pragma once

// The one event schema for every modality (keys, mouse, apps, shell commands).
// An Event is what remains AFTER the privacy filter: it has no field that can
// hold typed text, a window title or a command argument. Kind-specific fields
// are meaningful only for their kinds (see each field) and zero otherwise.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tacit {

// Bumped whenever the binary encoding (common/event_codec.h) changes shape.
inline constexpr uint8_t kEventSchemaVersion = 1;

// Values are part of the binary encoding and the store: never renumber.
enum class EventKind : uint8_t {
  kKeyPress = 1,
  kKeyRelease = 2,
  kShortcut = 3,  // a chord such as ctrl+c, kept exactly
  kMouseDown = 4,
  kMouseUp = 5,
  kMouseMove = 6,
  kDrag = 7,  // mouse moved with a button held
  kScroll = 8,
  kAppFocus = 9,
  kShellCommand = 10,
};
inline constexpr int kEventKindCount = 10;  // kinds are 1..kEventKindCount

enum class KeyClass : uint8_t {
  kOther = 0,  // a key the classifier does not know (never its label)
  kLetter = 1,
  kDigit = 2,
  kWhitespace = 3,
  kPunctuation = 4,
  kBackspaceDelete = 5,
  kEnter = 6,
  kNavigation = 7,
  kModifier = 8,
  kFunction = 9,
};
inline constexpr int kKeyClassCount = 10;

enum class MouseButton : uint8_t { kNone = 0, kLeft = 1, kRight = 2, kMiddle = 3 };
enum class ScrollDirection : uint8_t { kNone = 0, kUp = 1, kDown = 2, kLeft = 3, kRight = 4 };

struct Event {
  int64_t time_ms = 0;  // milliseconds since the Unix epoch (or since a log's start)
  EventKind kind = EventKind::kKeyPress;
  KeyClass key_class = KeyClass::kOther;    // key press / release
  std::string chord;                        // shortcut: "ctrl+shift+t" (modifiers in fixed order)
  MouseButton button = MouseButton::kNone;  // mouse down / up / drag
  ScrollDirection scroll = ScrollDirection::kNone;  // scroll
  float x = 0.f, y = 0.f;                           // mouse kinds: position normalized to [0,1]
  uint16_t screen_width = 0, screen_height = 0;     // mouse kinds: the screen it was on
  std::string app;                                  // app focus: normalized app identifier
  std::string command;                              // shell command: the command name only

  bool operator==(const Event& other) const;
  bool operator!=(const Event& other) const { return !(*this == other); }
};

bool IsMouseKind(EventKind kind);

// Stable lower-case names ("key_press", "letter", "left", "up") used in
// feature strings, JSON lines, the CLI and documentation.
absl::string_view EventKindName(EventKind kind);
absl::string_view KeyClassName(KeyClass key_class);
absl::string_view MouseButtonName(MouseButton button);
absl::string_view ScrollDirectionName(ScrollDirection direction);

// Inverse of the *Name functions; InvalidArgument naming the accepted values.
absl::StatusOr<EventKind> ParseEventKind(absl::string_view name);
absl::StatusOr<MouseButton> ParseMouseButton(absl::string_view name);
absl::StatusOr<ScrollDirection> ParseScrollDirection(absl::string_view name);

// True for a value the enum defines (used when decoding untrusted bytes).
bool IsValidEventKind(uint8_t value);

}  // namespace tacit
