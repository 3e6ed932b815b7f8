#include "common/event_features.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tacit {
namespace {

int Cell(float unit) {
  int c = static_cast<int>(unit * kScreenGrid);
  return std::clamp(c, 0, kScreenGrid - 1);
}

std::string Region(const Event& e) { return absl::StrCat("r", Cell(e.y), "c", Cell(e.x)); }

}  // namespace

std::string EventFeature(const Event& e) {
  switch (e.kind) {
    case EventKind::kKeyPress:
      return absl::StrCat("key:", KeyClassName(e.key_class));
    case EventKind::kShortcut:
      return absl::StrCat("chord:", e.chord);
    case EventKind::kMouseDown:
      switch (e.button) {
        case MouseButton::kRight:
          return absl::StrCat("rclick:", Region(e));
        case MouseButton::kMiddle:
          return absl::StrCat("mclick:", Region(e));
        default:
          return absl::StrCat("click:", Region(e));
      }
    case EventKind::kMouseMove:
      return absl::StrCat("move:", Region(e));
    case EventKind::kDrag:
      return absl::StrCat("drag:", Region(e));
    case EventKind::kScroll:
      return absl::StrCat("scroll:", ScrollDirectionName(e.scroll));
    case EventKind::kAppFocus:
      return absl::StrCat("app:", e.app);
    case EventKind::kShellCommand:
      return absl::StrCat("cmd:", e.command);
    case EventKind::kKeyRelease:
    case EventKind::kMouseUp:
      return "";
  }
  return "";
}

bool EventTokenizer::Add(const Event& event, std::vector<int32_t>* out) {
  std::string feature = EventFeature(event);
  if (feature.empty()) return false;
  if (event.kind == EventKind::kMouseMove || event.kind == EventKind::kDrag) {
    if (feature == last_pointer_feature_) return false;
    last_pointer_feature_ = feature;
  } else {
    last_pointer_feature_.clear();
  }
  out->push_back(vocabulary_.TokenOf(feature));
  return true;
}

}  // namespace tacit
