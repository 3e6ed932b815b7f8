#include "client/collector/key_label.h"

#include <X11/keysym.h>

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"

namespace tacit::collector {
namespace {

struct NamedKeysym {
  uint32_t keysym;
  const char* label;  // a label client/privacy_filter.cc knows
};

constexpr std::array<NamedKeysym, 47> kNamed = {{
    {XK_BackSpace, "BACKSPACE"},
    {XK_Tab, "TAB"},
    {XK_ISO_Left_Tab, "TAB"},
    {XK_Return, "ENTER"},
    {XK_KP_Enter, "ENTER"},
    {XK_Escape, "ESC"},
    {XK_Delete, "DELETE"},
    {XK_KP_Delete, "DELETE"},
    {XK_Left, "LEFT"},
    {XK_Right, "RIGHT"},
    {XK_Up, "UP"},
    {XK_Down, "DOWN"},
    {XK_KP_Left, "LEFT"},
    {XK_KP_Right, "RIGHT"},
    {XK_KP_Up, "UP"},
    {XK_KP_Down, "DOWN"},
    {XK_Home, "HOME"},
    {XK_End, "END"},
    {XK_KP_Home, "HOME"},
    {XK_KP_End, "END"},
    {XK_Page_Up, "PAGEUP"},
    {XK_Page_Down, "PAGEDOWN"},
    {XK_KP_Page_Up, "PAGEUP"},
    {XK_KP_Page_Down, "PAGEDOWN"},
    {XK_Insert, "INSERT"},
    {XK_KP_Insert, "INSERT"},
    {XK_Shift_L, "SHIFT"},
    {XK_Shift_R, "SHIFT"},
    {XK_Control_L, "CTRL"},
    {XK_Control_R, "CTRL"},
    {XK_Alt_L, "ALT"},
    {XK_Alt_R, "ALT"},
    {XK_Meta_L, "ALT"},
    {XK_Meta_R, "ALT"},
    {XK_ISO_Level3_Shift, "ALTGR"},
    {XK_Mode_switch, "ALTGR"},
    {XK_Super_L, "SUPER"},
    {XK_Super_R, "SUPER"},
    {XK_Hyper_L, "SUPER"},
    {XK_Hyper_R, "SUPER"},
    {XK_Caps_Lock, "CAPSLOCK"},
    {XK_Num_Lock, "NUMLOCK"},
    {XK_Menu, "MENU"},
    {XK_Print, "PRINTSCREEN"},
    {XK_Pause, "PAUSE"},
    {XK_Scroll_Lock, "SCROLLLOCK"},
    {XK_KP_Space, " "},
}};

// UTF-8 of one code point (the caller passes a valid, printable one).
std::string Utf8(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
  return out;
}

// A typed character outside ASCII. The filter classes any one non-ASCII code
// point as a letter, whichever it is, so for the legacy keysym blocks
// (Cyrillic, Greek, Kana, ...) without a code point table here U+FFFD stands in.
constexpr uint32_t kStandIn = 0xfffd;

int ModifierIndex(Modifier m) {
  switch (m) {
    case kModCtrl:
      return 0;
    case kModAlt:
      return 1;
    case kModShift:
      return 2;
    case kModMeta:
      return 3;
  }
  return 0;
}

constexpr std::array<Modifier, 4> kByIndex = {kModCtrl, kModAlt, kModShift, kModMeta};

}  // namespace

std::string KeyLabel(uint32_t keysym) {
  if (keysym >= XK_F1 && keysym <= XK_F24) return absl::StrCat("F", keysym - XK_F1 + 1);
  if (keysym >= XK_KP_0 && keysym <= XK_KP_9) return absl::StrCat("NUM", keysym - XK_KP_0);
  for (const NamedKeysym& k : kNamed) {
    if (k.keysym == keysym) return k.label;
  }
  // Keypad operators type their ASCII character.
  if (keysym >= XK_KP_Multiply && keysym <= XK_KP_Divide)
    return Utf8(keysym - XK_KP_Multiply + '*');
  if (keysym == XK_KP_Equal) return "=";
  if (keysym >= 0x20 && keysym <= 0x7e) return Utf8(keysym);                        // ASCII
  if (keysym >= 0xa0 && keysym <= 0xff) return Utf8(keysym);                        // Latin-1
  if (keysym >= 0x1000100 && keysym <= 0x110ffff) return Utf8(keysym - 0x1000000);  // Unicode
  if (keysym >= 0x100 && keysym <= 0x13ff) return Utf8(kStandIn);  // legacy character blocks
  return "";
}

std::optional<Modifier> ModifierOf(uint32_t keysym) {
  switch (keysym) {
    case XK_Shift_L:
    case XK_Shift_R:
      return kModShift;
    case XK_Control_L:
    case XK_Control_R:
      return kModCtrl;
    case XK_Alt_L:
    case XK_Alt_R:
    case XK_Meta_L:
    case XK_Meta_R:
    case XK_ISO_Level3_Shift:
    case XK_Mode_switch:
      return kModAlt;
    case XK_Super_L:
    case XK_Super_R:
    case XK_Hyper_L:
    case XK_Hyper_R:
      return kModMeta;
    default:
      return std::nullopt;
  }
}

uint8_t LiveKeyboard::held() const {
  uint8_t bits = 0;
  for (size_t i = 0; i < kByIndex.size(); ++i) {
    if (held_count_[i] > 0) bits |= kByIndex[i];
  }
  return bits;
}

RawEvent LiveKeyboard::Key(uint32_t keysym, bool press, int64_t time_ms) {
  RawEvent e;
  e.time_ms = time_ms;
  e.kind = press ? EventKind::kKeyPress : EventKind::kKeyRelease;
  e.key = KeyLabel(keysym);
  // The modifiers held when the key went down, the key itself not included.
  e.modifiers = held();
  if (std::optional<Modifier> m = ModifierOf(keysym)) {
    int& count = held_count_[ModifierIndex(*m)];
    // Never below zero: a release whose press came before the collector started.
    count = press ? std::min(count + 1, 8) : std::max(count - 1, 0);
  }
  return e;
}

}  // namespace tacit::collector
