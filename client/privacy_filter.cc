#include "client/privacy_filter.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/event_codec.h"

namespace tacit {
namespace {

constexpr size_t kMaxNameBytes = 64;

struct NamedKey {
  absl::string_view label;  // upper case, '_', '-' and ' ' removed
  KeyClass key_class;
  absl::string_view chord_name;
};

constexpr std::array<NamedKey, 44> kNamedKeys = {{
    {"SPACE", KeyClass::kWhitespace, "space"},
    {"TAB", KeyClass::kWhitespace, "tab"},
    {"ENTER", KeyClass::kEnter, "enter"},
    {"RETURN", KeyClass::kEnter, "enter"},
    {"BKSP", KeyClass::kBackspaceDelete, "backspace"},
    {"BACKSPACE", KeyClass::kBackspaceDelete, "backspace"},
    {"DELETE", KeyClass::kBackspaceDelete, "delete"},
    {"DEL", KeyClass::kBackspaceDelete, "delete"},
    {"ARWLEFT", KeyClass::kNavigation, "left"},
    {"ARWRIGHT", KeyClass::kNavigation, "right"},
    {"ARWUP", KeyClass::kNavigation, "up"},
    {"ARWDOWN", KeyClass::kNavigation, "down"},
    {"ARROWLEFT", KeyClass::kNavigation, "left"},
    {"ARROWRIGHT", KeyClass::kNavigation, "right"},
    {"ARROWUP", KeyClass::kNavigation, "up"},
    {"ARROWDOWN", KeyClass::kNavigation, "down"},
    {"LEFT", KeyClass::kNavigation, "left"},
    {"RIGHT", KeyClass::kNavigation, "right"},
    {"UP", KeyClass::kNavigation, "up"},
    {"DOWN", KeyClass::kNavigation, "down"},
    {"HOME", KeyClass::kNavigation, "home"},
    {"END", KeyClass::kNavigation, "end"},
    {"PAGEUP", KeyClass::kNavigation, "pageup"},
    {"PAGEDOWN", KeyClass::kNavigation, "pagedown"},
    {"PGUP", KeyClass::kNavigation, "pageup"},
    {"PGDN", KeyClass::kNavigation, "pagedown"},
    {"INSERT", KeyClass::kNavigation, "insert"},
    {"SHIFT", KeyClass::kModifier, "shift"},
    {"CTRL", KeyClass::kModifier, "ctrl"},
    {"CONTROL", KeyClass::kModifier, "ctrl"},
    {"ALT", KeyClass::kModifier, "alt"},
    {"ALTGR", KeyClass::kModifier, "alt"},
    {"OPTION", KeyClass::kModifier, "alt"},
    {"META", KeyClass::kModifier, "meta"},
    {"CMD", KeyClass::kModifier, "meta"},
    {"COMMAND", KeyClass::kModifier, "meta"},
    {"WIN", KeyClass::kModifier, "meta"},
    {"SUPER", KeyClass::kModifier, "meta"},
    {"CAPSLOCK", KeyClass::kModifier, "capslock"},
    {"NUMLK", KeyClass::kModifier, "numlock"},
    {"NUMLOCK", KeyClass::kModifier, "numlock"},
    {"ESC", KeyClass::kFunction, "esc"},
    {"ESCAPE", KeyClass::kFunction, "esc"},
    {"MENU", KeyClass::kFunction, "menu"},
}};

std::string Canonical(absl::string_view label) {
  std::string out;
  for (char c : label) {
    if (c == '_' || c == '-' || c == ' ') continue;
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// F1..F24 -> its number, else 0.
int FunctionKeyNumber(absl::string_view canonical) {
  int n = 0;
  if (canonical.size() < 2 || canonical[0] != 'F') return 0;
  if (!absl::SimpleAtoi(canonical.substr(1), &n) || n < 1 || n > 24) return 0;
  return n;
}

// Single characters: classes for ASCII, "letter" for one non-ASCII UTF-8
// code point (any script's typed text is text).
std::optional<KeyClass> CharacterClass(absl::string_view label) {
  if (label.size() == 1) {
    auto c = static_cast<unsigned char>(label[0]);
    if (std::isalpha(c)) return KeyClass::kLetter;
    if (std::isdigit(c)) return KeyClass::kDigit;
    if (c == ' ' || c == '\t') return KeyClass::kWhitespace;
    if (c == '\n' || c == '\r') return KeyClass::kEnter;
    if (c == '\b' || c == 0x7f) return KeyClass::kBackspaceDelete;
    if (std::ispunct(c)) return KeyClass::kPunctuation;
    return std::nullopt;
  }
  auto lead = static_cast<unsigned char>(label[0]);
  size_t expected = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
  if (expected != 0 && label.size() == expected) return KeyClass::kLetter;
  return std::nullopt;
}

// Browser key codes (KeyboardEvent.keyCode), used when a log has no label.
std::pair<KeyClass, std::string> FromKeyCode(int code) {
  if (code >= 65 && code <= 90)
    return {KeyClass::kLetter, std::string(1, static_cast<char>('a' + code - 65))};
  if (code >= 48 && code <= 57)
    return {KeyClass::kDigit, std::string(1, static_cast<char>('0' + code - 48))};
  if (code >= 96 && code <= 105)
    return {KeyClass::kDigit, std::string(1, static_cast<char>('0' + code - 96))};
  if (code >= 112 && code <= 135) return {KeyClass::kFunction, absl::StrCat("f", code - 111)};
  switch (code) {
    case 8:
      return {KeyClass::kBackspaceDelete, "backspace"};
    case 46:
      return {KeyClass::kBackspaceDelete, "delete"};
    case 9:
      return {KeyClass::kWhitespace, "tab"};
    case 32:
      return {KeyClass::kWhitespace, "space"};
    case 13:
      return {KeyClass::kEnter, "enter"};
    case 16:
      return {KeyClass::kModifier, "shift"};
    case 17:
      return {KeyClass::kModifier, "ctrl"};
    case 18:
      return {KeyClass::kModifier, "alt"};
    case 20:
      return {KeyClass::kModifier, "capslock"};
    case 91:
    case 92:
    case 93:
      return {KeyClass::kModifier, "meta"};
    case 27:
      return {KeyClass::kFunction, "esc"};
    case 33:
      return {KeyClass::kNavigation, "pageup"};
    case 34:
      return {KeyClass::kNavigation, "pagedown"};
    case 35:
      return {KeyClass::kNavigation, "end"};
    case 36:
      return {KeyClass::kNavigation, "home"};
    case 37:
      return {KeyClass::kNavigation, "left"};
    case 38:
      return {KeyClass::kNavigation, "up"};
    case 39:
      return {KeyClass::kNavigation, "right"};
    case 40:
      return {KeyClass::kNavigation, "down"};
    case 45:
      return {KeyClass::kNavigation, "insert"};
    default:
      break;
  }
  if ((code >= 186 && code <= 192) || (code >= 219 && code <= 222)) {
    return {KeyClass::kPunctuation, "punct"};
  }
  return {KeyClass::kOther, "key"};
}

// Class and chord name together, so both functions agree.
std::pair<KeyClass, std::string> Classify(absl::string_view label, int key_code) {
  if (label.empty()) return FromKeyCode(key_code);
  if (auto c = CharacterClass(label)) {
    if (label.size() == 1 && *c != KeyClass::kLetter) {
      switch (label[0]) {
        case ' ':
          return {*c, "space"};
        case '\t':
          return {*c, "tab"};
        case '\n':
        case '\r':
          return {*c, "enter"};
        case '\b':
          return {*c, "backspace"};
        case 0x7f:
          return {*c, "delete"};
        default:
          break;
      }
    }
    if (label.size() == 1) {
      return {*c, std::string(1, absl::ascii_tolower(static_cast<unsigned char>(label[0])))};
    }
    return {*c, "key"};  // a non-ASCII letter never enters a chord verbatim
  }
  if (label.size() == 1 && std::iscntrl(static_cast<unsigned char>(label[0]))) {
    // A control character a log recorded for ctrl+<key> (0x19 for ctrl+y):
    // the key code says which key it was.
    return FromKeyCode(key_code);
  }
  std::string canonical = Canonical(label);
  for (const NamedKey& k : kNamedKeys) {
    if (k.label == canonical) return {k.key_class, std::string(k.chord_name)};
  }
  if (int f = FunctionKeyNumber(canonical)) return {KeyClass::kFunction, absl::StrCat("f", f)};
  if (canonical.size() == 4 && absl::StartsWith(canonical, "NUM") &&
      std::isdigit(static_cast<unsigned char>(canonical[3]))) {
    return {KeyClass::kDigit, std::string(1, canonical[3])};
  }
  if (canonical == "SCRLK" || canonical == "SCROLLLOCK" || canonical == "PRINTSCREEN" ||
      canonical == "PAUSE") {
    return {KeyClass::kFunction, absl::AsciiStrToLower(canonical)};
  }
  return {KeyClass::kOther, "key"};
}

// `*lossy` is set when a character was removed or the name cut short: then
// the id is not the app's name but a fragment of something else.
std::string AppIdChars(absl::string_view in, bool* lossy) {
  std::string out;
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (c == ' ') c = '-';
    c = static_cast<unsigned char>(absl::ascii_tolower(c));
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      if (out.size() == kMaxNameBytes) {
        *lossy = true;
        break;
      }
      out.push_back(static_cast<char>(c));
    } else {
      *lossy = true;
    }
  }
  return out;
}

// The app's base name without extension ("/Applications/Code.app" -> "Code").
absl::string_view AppBaseName(absl::string_view app) {
  app = absl::StripAsciiWhitespace(app);
  while (!app.empty() && (app.back() == '/' || app.back() == '\\')) app.remove_suffix(1);
  size_t sep = app.find_last_of("/\\");
  if (sep != absl::string_view::npos) app = app.substr(sep + 1);
  for (absl::string_view ext : {".app", ".exe", ".desktop", ".APP", ".EXE"}) {
    if (absl::EndsWith(app, ext)) app.remove_suffix(ext.size());
  }
  return app;
}

// Alt (Option on a Mac) or AltGr held with a key that types a character is
// typing: it gives "@", "{", "é" or "ø" on many layouts, so an exact chord
// would spell out the text. Windows reports AltGr as ctrl+alt, so ctrl+alt
// counts as typing too; with Meta (Cmd, Super) held nothing is typed.
bool IsAltTyping(uint8_t modifiers, KeyClass key_class) {
  const bool printable = key_class == KeyClass::kLetter || key_class == KeyClass::kDigit ||
                         key_class == KeyClass::kPunctuation;
  return printable && (modifiers & kModAlt) != 0 && (modifiers & kModMeta) == 0;
}

}  // namespace

KeyClass KeyClassOf(absl::string_view label, int key_code) {
  return Classify(label, key_code).first;
}

std::string ChordKeyName(absl::string_view label, int key_code) {
  return Classify(label, key_code).second;
}

std::string NormalizeAppId(absl::string_view app) {
  bool lossy = false;
  return AppIdChars(AppBaseName(app), &lossy);
}

std::string StoredAppId(absl::string_view app) {
  // The whole string, folders included, must be a plain path: a URL or
  // "k=v/x" would otherwise leave a plausible base name that is part of a
  // value ("https://user:pw@host/x" -> "x"). "C:" in front is a drive.
  absl::string_view path = absl::StripAsciiWhitespace(app);
  if (path.size() >= 2 && path[1] == ':' &&
      absl::ascii_isalpha(static_cast<unsigned char>(path[0]))) {
    path.remove_prefix(2);
  }
  for (char c : path) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        absl::string_view(" ._-/\\").find(c) == absl::string_view::npos) {
      return std::string(kUnknownApp);
    }
  }
  bool lossy = false;
  std::string id = AppIdChars(AppBaseName(app), &lossy);
  if (lossy) return std::string(kUnknownApp);
  return id;
}

PrivacyFilter::PrivacyFilter(PrivacyPolicy policy) : policy_(std::move(policy)) {
  for (auto* list : {&policy_.deny_apps, &policy_.allow_apps}) {
    for (std::string& app : *list) app = NormalizeAppId(app);
  }
}

bool PrivacyFilter::AppAllowed(const std::string& app_id) const {
  if (policy_.app_mode == PrivacyPolicy::AppMode::kAllowList) {
    return !app_id.empty() && std::find(policy_.allow_apps.begin(), policy_.allow_apps.end(),
                                        app_id) != policy_.allow_apps.end();
  }
  return std::find(policy_.deny_apps.begin(), policy_.deny_apps.end(), app_id) ==
         policy_.deny_apps.end();
}

std::optional<Event> PrivacyFilter::Apply(const RawEvent& raw) {
  if (raw.secure_input) {
    ++counts_.dropped_secure_input;
    return std::nullopt;
  }
  const std::string app_id = NormalizeAppId(raw.app);
  if (!AppAllowed(app_id)) {
    ++counts_.dropped_by_app;
    return std::nullopt;
  }
  Event e;
  e.time_ms = raw.time_ms;
  e.kind = raw.kind;
  auto drop = [this]() -> std::optional<Event> {
    ++counts_.dropped_by_policy;
    return std::nullopt;
  };
  switch (raw.kind) {
    case EventKind::kKeyPress:
    case EventKind::kKeyRelease:
    case EventKind::kShortcut: {
      auto [key_class, chord_key] = Classify(raw.key, raw.key_code);
      const uint8_t chord_mods = raw.modifiers & (kModCtrl | kModAlt | kModMeta);
      if (raw.kind != EventKind::kKeyRelease && chord_mods != 0 &&
          key_class != KeyClass::kModifier && !IsAltTyping(raw.modifiers, key_class) &&
          policy_.keep_shortcuts) {
        e.kind = EventKind::kShortcut;
        std::string chord;
        if (raw.modifiers & kModCtrl) chord += "ctrl+";
        if (raw.modifiers & kModAlt) chord += "alt+";
        if (raw.modifiers & kModShift) chord += "shift+";
        if (raw.modifiers & kModMeta) chord += "meta+";
        e.chord = chord + chord_key;
        break;
      }
      if (raw.kind == EventKind::kKeyRelease && !policy_.keep_key_releases) return drop();
      if (raw.kind == EventKind::kShortcut) e.kind = EventKind::kKeyPress;
      e.key_class = key_class;
      break;
    }
    case EventKind::kMouseMove:
      if (!policy_.keep_mouse_moves) return drop();
      [[fallthrough]];
    case EventKind::kMouseDown:
    case EventKind::kMouseUp:
    case EventKind::kDrag:
    case EventKind::kScroll: {
      const bool pixels = raw.screen_width > 0 && raw.screen_height > 0;
      e.x = QuantizeUnit(static_cast<float>(pixels ? raw.x / raw.screen_width : raw.x));
      e.y = QuantizeUnit(static_cast<float>(pixels ? raw.y / raw.screen_height : raw.y));
      e.screen_width = static_cast<uint16_t>(std::clamp(raw.screen_width, 0, 0xffff));
      e.screen_height = static_cast<uint16_t>(std::clamp(raw.screen_height, 0, 0xffff));
      if (raw.kind != EventKind::kMouseMove && raw.kind != EventKind::kScroll) {
        e.button = raw.button;
      }
      if (raw.kind == EventKind::kScroll) e.scroll = raw.scroll;
      break;
    }
    case EventKind::kAppFocus:
      if (app_id.empty()) return drop();
      e.app = StoredAppId(raw.app);
      if (e.app == kUnknownApp) ++counts_.replaced_app_names;
      break;
    case EventKind::kShellCommand:
      e.command = CommandName(raw.command_line);
      if (e.command.empty()) return drop();
      if (e.command != kUnknownCommand && known_commands_ != nullptr &&
          !known_commands_->Knows(e.command)) {
        e.command = std::string(kUnknownCommand);
      }
      if (e.command == kUnknownCommand) ++counts_.replaced_command_names;
      break;
  }
  ++counts_.kept;
  return e;
}

}  // namespace tacit
