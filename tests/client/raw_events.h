#pragma once

// Raw (unfiltered) events for privacy filter tests.

#include <cstdint>
#include <string>

#include "client/raw_event.h"

namespace tacit::testing {

// A key press of `label` with `mods` held, in a code editor.
inline RawEvent Key(const std::string& label, uint8_t mods = 0) {
  RawEvent e;
  e.key = label;
  e.modifiers = mods;
  e.app = "Code.app";
  return e;
}

}  // namespace tacit::testing
