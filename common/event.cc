#include "common/event.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tacit {
namespace {

constexpr std::array<absl::string_view, kEventKindCount + 1> kKindNames = {
    "",           "key_press", "key_release", "shortcut",  "mouse_down",   "mouse_up",
    "mouse_move", "drag",      "scroll",      "app_focus", "shell_command"};
constexpr std::array<absl::string_view, kKeyClassCount> kKeyClassNames = {
    "other", "letter",     "digit",    "whitespace", "punctuation", "backspace_delete",
    "enter", "navigation", "modifier", "function"};
constexpr std::array<absl::string_view, 4> kButtonNames = {"none", "left", "right", "middle"};
constexpr std::array<absl::string_view, 5> kScrollNames = {"none", "up", "down", "left", "right"};

template <typename Enum, size_t N>
absl::StatusOr<Enum> ParseName(absl::string_view what, absl::string_view name,
                               const std::array<absl::string_view, N>& names, size_t first) {
  for (size_t i = first; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown ", what, " '", name, "'; expected one of: ",
      absl::StrJoin(names.begin() + static_cast<std::ptrdiff_t>(first), names.end(), ", ")));
}

template <typename Enum, size_t N>
absl::string_view NameOf(const std::array<absl::string_view, N>& names, Enum value,
                         absl::string_view fallback) {
  auto i = static_cast<size_t>(value);
  return i < N ? names[i] : fallback;
}

}  // namespace

bool Event::operator==(const Event& o) const {
  return time_ms == o.time_ms && kind == o.kind && key_class == o.key_class && chord == o.chord &&
         button == o.button && scroll == o.scroll && x == o.x && y == o.y &&
         screen_width == o.screen_width && screen_height == o.screen_height && app == o.app &&
         command == o.command;
}

bool IsMouseKind(EventKind kind) {
  return kind == EventKind::kMouseDown || kind == EventKind::kMouseUp ||
         kind == EventKind::kMouseMove || kind == EventKind::kDrag || kind == EventKind::kScroll;
}

bool IsValidEventKind(uint8_t value) { return value >= 1 && value <= kEventKindCount; }

absl::string_view EventKindName(EventKind kind) { return NameOf(kKindNames, kind, "unknown"); }
absl::string_view KeyClassName(KeyClass key_class) {
  return NameOf(kKeyClassNames, key_class, "other");
}
absl::string_view MouseButtonName(MouseButton button) {
  return NameOf(kButtonNames, button, "none");
}
absl::string_view ScrollDirectionName(ScrollDirection direction) {
  return NameOf(kScrollNames, direction, "none");
}

absl::StatusOr<EventKind> ParseEventKind(absl::string_view name) {
  return ParseName<EventKind>("event kind", name, kKindNames, 1);
}
absl::StatusOr<MouseButton> ParseMouseButton(absl::string_view name) {
  return ParseName<MouseButton>("mouse button", name, kButtonNames, 0);
}
absl::StatusOr<ScrollDirection> ParseScrollDirection(absl::string_view name) {
  return ParseName<ScrollDirection>("scroll direction", name, kScrollNames, 0);
}

}  // namespace tacit
