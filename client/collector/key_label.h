#pragma once

// X11 keysyms -> the key labels every importer hands the privacy filter
// ("a", "ENTER", "SHIFT", "F5"), so live keys get their class and chord name
// from the same functions as imported ones (KeyClassOf, ChordKeyName in
// client/privacy_filter.h). Pure: only the keysym numbers, no X connection.

#include <cstdint>
#include <optional>
#include <string>

#include "client/raw_event.h"

namespace tacit::collector {

// The label for `keysym` (read at shift level 0, so "a" for both a and A):
// the character itself for a printable key (a RawEvent may hold it; the
// filter turns it into a class), a filter-known name for the others, "" for
// a key the filter should class as "other".
std::string KeyLabel(uint32_t keysym);

// The modifier bit (kModCtrl, kModAlt, ...) a keysym holds down, if any.
// AltGr (ISO_Level3_Shift, Mode_switch) counts as Alt: the filter treats Alt
// with a printable key as typing, never as a chord.
std::optional<Modifier> ModifierOf(uint32_t keysym);

// Key presses and releases -> RawEvents with the modifiers held at the time.
// Raw XInput2 events carry no modifier state, so it is tracked here from the
// modifier keys' own presses and releases (per key: left and right Shift are
// counted apart, so releasing one leaves the other held).
class LiveKeyboard {
 public:
  RawEvent Key(uint32_t keysym, bool press, int64_t time_ms);
  uint8_t held() const;

 private:
  // Presses minus releases of each modifier's keys, by Modifier bit index.
  int held_count_[4] = {0, 0, 0, 0};
};

}  // namespace tacit::collector
