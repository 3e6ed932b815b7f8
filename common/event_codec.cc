#include "common/event_codec.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tacit {
namespace {

constexpr float kGrid = 65535.f;

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutString(absl::string_view s, std::string* out) {
  s = s.substr(0, kMaxEventStringBytes);
  PutVarint(s.size(), out);
  out->append(s.data(), s.size());
}

uint16_t ToGrid(float v) { return static_cast<uint16_t>(std::lround(QuantizeUnit(v) * kGrid)); }

void PutU16(uint16_t v, std::string* out) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}

void PutPosition(const Event& e, std::string* out) {
  PutU16(ToGrid(e.x), out);
  PutU16(ToGrid(e.y), out);
  PutVarint(e.screen_width, out);
  PutVarint(e.screen_height, out);
}

// Reads fields from untrusted bytes; the first failure sticks.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : bytes_(bytes) {}

  uint8_t U8() {
    if (!Need(1)) return 0;
    return static_cast<uint8_t>(bytes_[pos_++]);
  }
  uint16_t U16() {
    if (!Need(2)) return 0;
    uint16_t v = static_cast<uint8_t>(bytes_[pos_]) |
                 static_cast<uint16_t>(static_cast<uint8_t>(bytes_[pos_ + 1]) << 8);
    pos_ += 2;
    return v;
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!Need(1)) return 0;
      auto b = static_cast<uint8_t>(bytes_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    Fail("a varint longer than 10 bytes");
    return 0;
  }
  std::string String() {
    uint64_t n = Varint();
    if (n > kMaxEventStringBytes) {
      Fail(absl::StrCat("a string of ", n, " bytes (at most ", kMaxEventStringBytes, ")"));
      return "";
    }
    if (!Need(n)) return "";
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  uint16_t Dimension() {
    uint64_t v = Varint();
    if (v > 0xffff) Fail(absl::StrCat("a screen dimension of ", v));
    return static_cast<uint16_t>(v);
  }
  void Fail(const std::string& what) {
    if (error_.empty()) error_ = absl::StrCat(what, " at byte ", pos_);
  }
  absl::Status Finish() {
    if (error_.empty() && pos_ != bytes_.size()) {
      Fail(absl::StrCat(bytes_.size() - pos_, " trailing bytes"));
    }
    if (error_.empty()) return absl::OkStatus();
    return absl::DataLossError(
        absl::StrCat("corrupt event record (", bytes_.size(), " bytes): ", error_));
  }

 private:
  bool Need(uint64_t n) {
    if (!error_.empty()) return false;
    if (bytes_.size() - pos_ < n) {
      Fail(absl::StrCat("record truncated: needs ", n, " more bytes"));
      return false;
    }
    return true;
  }
  absl::string_view bytes_;
  size_t pos_ = 0;
  std::string error_;
};

void ReadPosition(Reader& r, Event& e) {
  e.x = static_cast<float>(r.U16()) / kGrid;
  e.y = static_cast<float>(r.U16()) / kGrid;
  e.screen_width = r.Dimension();
  e.screen_height = r.Dimension();
}

}  // namespace

float QuantizeUnit(float value) {
  if (!(value > 0.f)) return 0.f;  // also maps NaN to 0
  if (value >= 1.f) return 1.f;
  return static_cast<float>(std::lround(value * kGrid)) / kGrid;
}

void AppendEncodedEvent(const Event& e, std::string* out) {
  out->push_back(static_cast<char>(kEventSchemaVersion));
  out->push_back(static_cast<char>(e.kind));
  uint64_t t = static_cast<uint64_t>(e.time_ms);
  PutVarint((t << 1) ^ static_cast<uint64_t>(e.time_ms >> 63), out);  // zigzag
  switch (e.kind) {
    case EventKind::kKeyPress:
    case EventKind::kKeyRelease:
      out->push_back(static_cast<char>(e.key_class));
      break;
    case EventKind::kShortcut:
      PutString(e.chord, out);
      break;
    case EventKind::kMouseDown:
    case EventKind::kMouseUp:
    case EventKind::kDrag:
      out->push_back(static_cast<char>(e.button));
      PutPosition(e, out);
      break;
    case EventKind::kMouseMove:
      PutPosition(e, out);
      break;
    case EventKind::kScroll:
      out->push_back(static_cast<char>(e.scroll));
      PutPosition(e, out);
      break;
    case EventKind::kAppFocus:
      PutString(e.app, out);
      break;
    case EventKind::kShellCommand:
      PutString(e.command, out);
      break;
  }
}

std::string EncodeEvent(const Event& event) {
  std::string out;
  AppendEncodedEvent(event, &out);
  return out;
}

absl::StatusOr<Event> DecodeEvent(absl::string_view bytes) {
  Reader r(bytes);
  Event e;
  uint8_t version = r.U8();
  if (bytes.empty()) return absl::DataLossError("corrupt event record: empty");
  if (version != kEventSchemaVersion) {
    return absl::DataLossError(absl::StrCat("event record has schema version ", version,
                                            "; this build reads version ", kEventSchemaVersion,
                                            " (upgrade tacit or re-import the data)"));
  }
  uint8_t kind = r.U8();
  if (bytes.size() >= 2 && !IsValidEventKind(kind)) {
    return absl::DataLossError(absl::StrCat("corrupt event record: unknown kind ", kind));
  }
  e.kind = static_cast<EventKind>(kind);
  uint64_t z = r.Varint();
  e.time_ms = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
  switch (e.kind) {
    case EventKind::kKeyPress:
    case EventKind::kKeyRelease: {
      uint8_t c = r.U8();
      if (c >= kKeyClassCount) r.Fail(absl::StrCat("an unknown key class ", c));
      e.key_class = static_cast<KeyClass>(c);
      break;
    }
    case EventKind::kShortcut:
      e.chord = r.String();
      break;
    case EventKind::kMouseDown:
    case EventKind::kMouseUp:
    case EventKind::kDrag: {
      uint8_t b = r.U8();
      if (b > static_cast<uint8_t>(MouseButton::kMiddle))
        r.Fail(absl::StrCat("an unknown button ", b));
      e.button = static_cast<MouseButton>(b);
      ReadPosition(r, e);
      break;
    }
    case EventKind::kMouseMove:
      ReadPosition(r, e);
      break;
    case EventKind::kScroll: {
      uint8_t d = r.U8();
      if (d > static_cast<uint8_t>(ScrollDirection::kRight))
        r.Fail(absl::StrCat("an unknown scroll direction ", d));
      e.scroll = static_cast<ScrollDirection>(d);
      ReadPosition(r, e);
      break;
    }
    case EventKind::kAppFocus:
      e.app = r.String();
      break;
    case EventKind::kShellCommand:
      e.command = r.String();
      break;
  }
  absl::Status status = r.Finish();
  if (!status.ok()) return status;
  return e;
}

}  // namespace tacit
