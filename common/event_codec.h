#pragma once

// Compact, versioned binary encoding of one Event (what the local store keeps):
//   u8 schema version | u8 kind | zigzag varint time_ms | kind-specific fields
// key press/release: u8 key class; shortcut: varint length + chord bytes;
// mouse down/up/drag: u8 button, u16 x, u16 y, varint screen w, varint screen h;
// mouse move: u16 x, u16 y, varint w, varint h; scroll: u8 direction + as move;
// app focus / shell command: varint length + bytes.
// Positions are quantized to 1/65535 of the screen (QuantizeUnit), so an event
// whose positions are already quantized decodes to exactly itself. A typical
// key event takes 9 bytes with an epoch time, a mouse move 16.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/event.h"

namespace tacit {

inline constexpr size_t kMaxEventStringBytes = 255;

// Rounds a position to the encoding's grid after clamping it to [0,1].
float QuantizeUnit(float value);

// Appends the encoding of `event` to `out`. Strings longer than
// kMaxEventStringBytes are cut (the privacy filter never produces them).
void AppendEncodedEvent(const Event& event, std::string* out);
std::string EncodeEvent(const Event& event);

// Decodes exactly one event occupying all of `bytes`. DataLoss on truncated
// or trailing bytes, an unknown schema version or kind, or out-of-range fields.
absl::StatusOr<Event> DecodeEvent(absl::string_view bytes);

}  // namespace tacit
