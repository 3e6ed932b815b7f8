// Parsers for the three real data sets (formats in ../shared/data/README.md).

#include <array>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/importers/line_parsers.h"
#include "common/status_macros.h"

namespace tacit::importers {
namespace {

absl::Status CheckHeader(absl::string_view line, char sep,
                         const std::vector<absl::string_view>& expected) {
  std::vector<absl::string_view> got = absl::StrSplit(line, sep);
  if (got != expected) {
    return absl::InvalidArgumentError(absl::StrCat("expected the header '",
                                                   absl::StrJoin(expected, std::string(1, sep)),
                                                   "' but found '", line.substr(0, 200), "'"));
  }
  return absl::OkStatus();
}

// SEA: one command name per line, no header, no times.
class SeaParser : public LineParser {
 public:
  explicit SeaParser(const ImportOptions& o) : interval_ms_(o.sea_command_interval_ms) {}
  absl::Status Parse(absl::string_view line, int64_t line_number,
                     std::vector<RawEvent>* out) override {
    absl::string_view name = absl::StripAsciiWhitespace(line);
    if (name.empty()) return absl::InvalidArgumentError("empty line where a command name belongs");
    if (name.find_first_of(" \t") != absl::string_view::npos) {
      return absl::InvalidArgumentError("more than one word where one command name belongs");
    }
    RawEvent e;
    e.kind = EventKind::kShellCommand;
    e.time_ms = index_++ * interval_ms_;
    e.command_line = std::string(name);
    out->push_back(std::move(e));
    return absl::OkStatus();
  }

 private:
  int64_t interval_ms_;
  int64_t index_ = 0;
};

// Aalto 136M keystrokes: one row per key with press and release times.
// Modifier state comes from the SHIFT/CTRL/ALT/WIN rows' press-release spans.
class AaltoParser : public LineParser {
 public:
  absl::Status Parse(absl::string_view line, int64_t line_number,
                     std::vector<RawEvent>* out) override {
    if (line_number == 1) {
      return CheckHeader(line, '\t',
                         {"PARTICIPANT_ID", "TEST_SECTION_ID", "SENTENCE", "USER_INPUT",
                          "KEYSTROKE_ID", "PRESS_TIME", "RELEASE_TIME", "LETTER", "KEYCODE"});
    }
    std::vector<absl::string_view> col;
    TACIT_RETURN_IF_ERROR(SplitColumns(line, '\t', 9, &col));
    int64_t press = 0, release = 0, code = 0;
    TACIT_RETURN_IF_ERROR(ParseInt(col[5], "PRESS_TIME", &press));
    TACIT_RETURN_IF_ERROR(ParseInt(col[6], "RELEASE_TIME", &release));
    if (!col[8].empty()) TACIT_RETURN_IF_ERROR(ParseInt(col[8], "KEYCODE", &code));
    if (code < 0 || code > 1024) {
      return absl::InvalidArgumentError(absl::StrCat("KEYCODE ", code, " is out of range"));
    }
    RawEvent e;
    e.kind = EventKind::kKeyPress;
    e.time_ms = press;
    e.key = std::string(col[7]);
    e.key_code = static_cast<int>(code);
    for (size_t m = 0; m < spans_.size(); ++m) {
      if (spans_[m].press <= press && press < spans_[m].release) e.modifiers |= kSpanBits[m];
    }
    size_t which = ModifierIndex(col[7], e.key_code);
    if (which < spans_.size()) spans_[which] = {press, release};
    out->push_back(e);
    e.kind = EventKind::kKeyRelease;
    e.time_ms = release;
    out->push_back(std::move(e));
    return absl::OkStatus();
  }

 private:
  struct Span {
    int64_t press = 0, release = 0;
  };
  static constexpr std::array<uint8_t, 4> kSpanBits = {kModShift, kModCtrl, kModAlt, kModMeta};
  static size_t ModifierIndex(absl::string_view label, int code) {
    if (label == "SHIFT" || code == 16) return 0;
    if (label == "CTRL" || code == 17) return 1;
    if (label == "ALT" || code == 18) return 2;
    if (label == "WIN" || code == 91 || code == 92) return 3;
    return kSpanBits.size();
  }
  std::array<Span, 4> spans_{};
};

// Balabit mouse dynamics: record timestamp,client timestamp,button,state,x,y.
class BalabitParser : public LineParser {
 public:
  explicit BalabitParser(const ImportOptions& o)
      : width_(o.screen_width), height_(o.screen_height) {}
  absl::Status Parse(absl::string_view line, int64_t line_number,
                     std::vector<RawEvent>* out) override {
    if (line_number == 1) {
      return CheckHeader(line, ',',
                         {"record timestamp", "client timestamp", "button", "state", "x", "y"});
    }
    std::vector<absl::string_view> col;
    TACIT_RETURN_IF_ERROR(SplitColumns(line, ',', 6, &col));
    double seconds = 0, x = 0, y = 0;
    TACIT_RETURN_IF_ERROR(ParseDouble(col[0], "record timestamp", &seconds));
    TACIT_RETURN_IF_ERROR(ParseDouble(col[4], "x", &x));
    TACIT_RETURN_IF_ERROR(ParseDouble(col[5], "y", &y));
    if (seconds < 0 || seconds > 1e9) {
      return absl::InvalidArgumentError(
          absl::StrCat("record timestamp ", seconds, " is out of range"));
    }
    RawEvent e;
    e.time_ms = std::llround(seconds * 1000.0);
    e.x = x;
    e.y = y;
    e.screen_width = width_;
    e.screen_height = height_;
    const absl::string_view button = col[2], state = col[3];
    if (button == "Left") {
      e.button = MouseButton::kLeft;
    } else if (button == "Right") {
      e.button = MouseButton::kRight;
    } else if (button == "Middle") {
      e.button = MouseButton::kMiddle;
    } else if (button != "NoButton" && button != "Scroll") {
      return absl::InvalidArgumentError(absl::StrCat("unknown button '", button.substr(0, 40),
                                                     "' (expected NoButton, Left, Right, Scroll)"));
    }
    if (state == "Move") {
      e.kind = EventKind::kMouseMove;
    } else if (state == "Drag") {
      e.kind = EventKind::kDrag;
      if (e.button == MouseButton::kNone) e.button = MouseButton::kLeft;  // logged without one
    } else if (state == "Pressed" && e.button != MouseButton::kNone) {
      e.kind = EventKind::kMouseDown;
    } else if (state == "Released" && e.button != MouseButton::kNone) {
      e.kind = EventKind::kMouseUp;
    } else if ((state == "Up" || state == "Down") && button == "Scroll") {
      e.kind = EventKind::kScroll;
      e.scroll = state == "Up" ? ScrollDirection::kUp : ScrollDirection::kDown;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("state '", state.substr(0, 40),
                                                     "' does not go with button '",
                                                     button.substr(0, 40), "'"));
    }
    out->push_back(std::move(e));
    return absl::OkStatus();
  }

 private:
  int width_, height_;
};

}  // namespace

absl::Status SplitColumns(absl::string_view line, char sep, size_t expected,
                          std::vector<absl::string_view>* columns) {
  *columns = absl::StrSplit(line, sep);
  if (columns->size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", expected, " columns separated by ",
                                                   sep == '\t' ? "tabs" : "commas", ", found ",
                                                   columns->size()));
  }
  return absl::OkStatus();
}

absl::Status ParseInt(absl::string_view text, absl::string_view column, int64_t* out) {
  if (!absl::SimpleAtoi(text, out)) {
    return absl::InvalidArgumentError(
        absl::StrCat(column, " '", text.substr(0, 40), "' is not an integer"));
  }
  return absl::OkStatus();
}

absl::Status ParseDouble(absl::string_view text, absl::string_view column, double* out) {
  if (!absl::SimpleAtod(text, out) || !std::isfinite(*out)) {
    return absl::InvalidArgumentError(
        absl::StrCat(column, " '", text.substr(0, 40), "' is not a finite number"));
  }
  return absl::OkStatus();
}

std::unique_ptr<LineParser> MakeSeaParser(const ImportOptions& o) {
  return std::make_unique<SeaParser>(o);
}
std::unique_ptr<LineParser> MakeAaltoParser(const ImportOptions&) {
  return std::make_unique<AaltoParser>();
}
std::unique_ptr<LineParser> MakeBalabitParser(const ImportOptions& o) {
  return std::make_unique<BalabitParser>(o);
}

}  // namespace tacit::importers
