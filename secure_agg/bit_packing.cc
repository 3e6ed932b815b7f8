#include "secure_agg/bit_packing.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::secagg {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "packing assumes little-endian");

template <size_t N>
using ByteWidth = std::integral_constant<size_t, N>;

// Calls whole(ByteWidth<bits / 8>) for the whole-byte widths 8..56, where an
// element is a plain copy of its low bytes, and general() for the others.
template <typename Whole, typename General>
void DispatchOnWidth(uint32_t bits, Whole&& whole, General&& general) {
  switch (bits) {
    case 8:
      return whole(ByteWidth<1>{});
    case 16:
      return whole(ByteWidth<2>{});
    case 24:
      return whole(ByteWidth<3>{});
    case 32:
      return whole(ByteWidth<4>{});
    case 40:
      return whole(ByteWidth<5>{});
    case 48:
      return whole(ByteWidth<6>{});
    case 56:
      return whole(ByteWidth<7>{});
    default:
      return general();
  }
}

absl::Status CheckBits(uint32_t bits) {
  if (bits < 1 || bits > kMaxPackedBits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "residues of ", bits, " bits cannot be packed: bits must be in 1..", kMaxPackedBits));
  }
  return absl::OkStatus();
}

// Streams each residue into a 64-bit accumulator and stores it a word at a
// time; the bits of a residue that do not fit start the next word.
template <typename Word>
void PackGeneral(absl::Span<const Word> residues, uint32_t bits, uint8_t* out) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t acc = 0;
  uint32_t fill = 0;  // bits held in acc, < 64
  for (const Word w : residues) {
    const uint64_t v = static_cast<uint64_t>(w) & mask;
    acc |= v << fill;
    fill += bits;
    if (fill >= 64) {
      std::memcpy(out, &acc, 8);
      out += 8;
      fill -= 64;
      acc = v >> (bits - fill);  // bits - fill is in 1..62: v's unwritten high bits
    }
  }
  std::memcpy(out, &acc, (fill + 7) / 8);
}

// How many of `count` elements of `width` bytes can be accessed as a full
// 8-byte word starting at the element without leaving the buffer.
size_t WordAccessible(size_t count, size_t width) {
  const size_t total = count * width;
  return total < 8 ? 0 : std::min(count, (total - 8) / width + 1);
}

// Reads the 8 bytes at `p` (a fixed-size copy: one load, no stack round trip).
uint64_t LoadWord(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

template <typename Word>
absl::Status PackAny(absl::Span<const Word> residues, uint32_t bits, uint8_t* out) {
  TACIT_RETURN_IF_ERROR(CheckBits(bits));
  DispatchOnWidth(
      bits,
      [&](auto width) {
        constexpr size_t kWidth = decltype(width)::value;
        if constexpr (kWidth == sizeof(Word)) {
          std::memcpy(out, residues.data(), residues.size() * kWidth);
        } else {
          // Whole 8-byte stores where they fit: each store's zero high bytes
          // are overwritten by the next elements, stored after it.
          const uint64_t mask = (uint64_t{1} << bits) - 1;
          const size_t bulk = WordAccessible(residues.size(), kWidth);
          for (size_t i = 0; i < bulk; ++i) {
            const uint64_t v = residues[i] & mask;
            std::memcpy(out + i * kWidth, &v, 8);
          }
          for (size_t i = bulk; i < residues.size(); ++i) {
            const uint64_t v = residues[i];
            std::memcpy(out + i * kWidth, &v, kWidth);
          }
        }
      },
      [&] { PackGeneral(residues, bits, out); });
  return absl::OkStatus();
}

// Calls sink(i, residue) for each of `count` residues of a buffer that
// passed CheckPackedResidues. The general path reads the buffer a word at a
// time (the last, short word zero-extended) and carries the unread bits.
template <typename Sink>
void ForEachResidue(absl::Span<const uint8_t> packed, size_t count, uint32_t bits, Sink&& sink) {
  const uint8_t* in = packed.data();
  DispatchOnWidth(
      bits,
      [&](auto width) {
        constexpr size_t kWidth = decltype(width)::value;
        const uint64_t mask = (uint64_t{1} << bits) - 1;
        const size_t bulk = WordAccessible(count, kWidth);
        for (size_t i = 0; i < bulk; ++i) sink(i, LoadWord(in + i * kWidth) & mask);
        for (size_t i = bulk; i < count; ++i) {
          uint64_t v = 0;
          std::memcpy(&v, in + i * kWidth, kWidth);
          sink(i, v);
        }
      },
      [&] {
        const uint8_t* end = in + packed.size();
        const uint64_t mask = (uint64_t{1} << bits) - 1;
        uint64_t acc = 0;
        uint32_t avail = 0;  // unread bits in acc, < 64
        for (size_t i = 0; i < count; ++i) {
          if (avail >= bits) {
            sink(i, acc & mask);
            acc >>= bits;
            avail -= bits;
            continue;
          }
          uint64_t w = 0;
          const size_t take = std::min<size_t>(8, static_cast<size_t>(end - in));
          if (take == 8) {
            w = LoadWord(in);
          } else {
            std::memcpy(&w, in, take);  // the last, short word
          }
          in += take;
          sink(i, (acc | (w << avail)) & mask);
          const uint32_t used = bits - avail;  // bits of w in this residue, 1..62
          acc = w >> used;
          avail = 64 - used;
        }
      });
}

}  // namespace

absl::Status PackResiduesInto(absl::Span<const uint32_t> residues, uint32_t bits, uint8_t* out) {
  return PackAny(residues, bits, out);
}

absl::Status PackResiduesInto(absl::Span<const uint64_t> residues, uint32_t bits, uint8_t* out) {
  return PackAny(residues, bits, out);
}

absl::StatusOr<std::vector<uint8_t>> PackResidues(absl::Span<const uint64_t> residues,
                                                  uint32_t bits) {
  TACIT_RETURN_IF_ERROR(CheckBits(bits));
  std::vector<uint8_t> out(PackedBytes(residues.size(), bits));
  TACIT_RETURN_IF_ERROR(PackResiduesInto(residues, bits, out.data()));
  return out;
}

absl::Status CheckPackedResidues(absl::Span<const uint8_t> packed, size_t count, uint32_t bits) {
  TACIT_RETURN_IF_ERROR(CheckBits(bits));
  const size_t expected = PackedBytes(count, bits);
  if (packed.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("masked input has ", packed.size(),
                                                   " bytes, expected ", expected, " (", count,
                                                   " elements of ", bits, " bits, packed)"));
  }
  const uint32_t used_in_last = static_cast<uint32_t>((count % 8) * bits % 8);
  if (used_in_last != 0 && (packed.back() >> used_in_last) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("masked input's last byte has nonzero padding bits above bit ", used_in_last,
                     " (the high ", 8 - used_in_last, " bits must be zero)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> UnpackResidues(absl::Span<const uint8_t> packed, size_t count,
                                                     uint32_t bits) {
  TACIT_RETURN_IF_ERROR(CheckPackedResidues(packed, count, bits));
  std::vector<uint64_t> out(count);
  ForEachResidue(packed, count, bits, [&out](size_t i, uint64_t v) { out[i] = v; });
  return out;
}

absl::Status AddPackedResidues(absl::Span<const uint8_t> packed, uint32_t bits,
                               absl::Span<uint64_t> sum) {
  TACIT_RETURN_IF_ERROR(CheckPackedResidues(packed, sum.size(), bits));
  ForEachResidue(packed, sum.size(), bits, [sum](size_t i, uint64_t v) { sum[i] += v; });
  return absl::OkStatus();
}

}  // namespace tacit::secagg
