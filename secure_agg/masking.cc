#include "secure_agg/masking.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "secure_agg/protocol.h"

namespace tacit::secagg {
namespace {

// 4096 elements: 16-32 KiB of keystream plus 32 KiB of sums, resident in L2.
constexpr size_t kChunkElements = 4096;

// A fixed trip count lets the compiler vectorise the loop at -O2 (its cheap
// cost model skips loops that need a scalar remainder).
template <typename Word, size_t N, typename Value>
void AddOrSubtract(int sign, const Word* mask, Value* out) {
  if (sign > 0) {
    for (size_t i = 0; i < N; ++i) out[i] += mask[i];
  } else {
    for (size_t i = 0; i < N; ++i) out[i] -= mask[i];
  }
}

template <typename Word, typename Value>
absl::Status ApplyMasksTyped(absl::Span<const MaskTerm> terms, uint64_t offset,
                             absl::Span<Value> values) {
  constexpr size_t kElementsPerBlock = 16 / sizeof(Word);
  if (offset % kElementsPerBlock != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mask offset ", offset, " is not on a 16-byte block boundary"));
  }
  // One keystream per term, all open at once, so each chunk of `values` is
  // loaded into cache once and receives every mask before moving on (the
  // vector itself is far larger than the cache).
  std::vector<AesCtrStream> streams;
  streams.reserve(terms.size());
  for (const MaskTerm& term : terms) {
    auto stream = AesCtrStream::Create(term.seed, offset / kElementsPerBlock);
    if (!stream.ok()) return stream.status();
    streams.push_back(std::move(*stream));
  }
  Word buffer[kChunkElements];
  auto bytes = absl::MakeSpan(reinterpret_cast<uint8_t*>(buffer), sizeof(buffer));
  for (size_t start = 0; start < values.size(); start += kChunkElements) {
    const size_t n = std::min(kChunkElements, values.size() - start);
    // Whole blocks, so every stream stays block aligned across chunks.
    const size_t n_bytes = (n * sizeof(Word) + 15) / 16 * 16;
    Value* out = values.data() + start;
    for (size_t t = 0; t < terms.size(); ++t) {
      absl::Status st = streams[t].Generate(bytes.subspan(0, n_bytes));
      if (!st.ok()) return st;
      if (n == kChunkElements) {
        AddOrSubtract<Word, kChunkElements>(terms[t].sign, buffer, out);
      } else if (terms[t].sign > 0) {
        for (size_t i = 0; i < n; ++i) out[i] += buffer[i];
      } else {
        for (size_t i = 0; i < n; ++i) out[i] -= buffer[i];
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyMasks(absl::Span<const MaskTerm> terms, uint32_t bits, uint64_t offset,
                        absl::Span<uint64_t> values) {
  if (ElementWidth(bits) == 4) return ApplyMasksTyped<uint32_t>(terms, offset, values);
  return ApplyMasksTyped<uint64_t>(terms, offset, values);
}

absl::Status ApplyMasks(absl::Span<const MaskTerm> terms, uint32_t bits, uint64_t offset,
                        absl::Span<uint32_t> values) {
  if (bits > 32) {
    return absl::InvalidArgumentError(absl::StrCat("32-bit masking needs bits <= 32, got ", bits));
  }
  return ApplyMasksTyped<uint32_t>(terms, offset, values);
}

absl::Status ApplyMasksParallel(absl::Span<const MaskTerm> terms, uint32_t bits,
                                absl::Span<uint64_t> values, unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  // Slices are multiples of 4 elements (one AES block for 4-byte words) and not
  // smaller than a chunk, so every slice starts on a block boundary.
  const size_t min_slice = kChunkElements;
  size_t slices = std::min<size_t>(threads, std::max<size_t>(1, values.size() / min_slice));
  if (slices <= 1) return ApplyMasks(terms, bits, 0, values);
  size_t slice = (values.size() + slices - 1) / slices;
  slice = (slice + 3) / 4 * 4;
  std::vector<absl::Status> results(slices);
  std::vector<std::thread> workers;
  workers.reserve(slices);
  for (size_t s = 0; s < slices; ++s) {
    const size_t begin = std::min(values.size(), s * slice);
    const size_t end = std::min(values.size(), begin + slice);
    workers.emplace_back([&, s, begin, end] {
      results[s] = ApplyMasks(terms, bits, begin, values.subspan(begin, end - begin));
    });
  }
  for (auto& w : workers) w.join();
  for (const auto& st : results) {
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

void ReduceModulo(absl::Span<uint64_t> values, uint32_t bits) {
  const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  for (auto& v : values) v &= mask;
}

void ReduceModulo(absl::Span<uint32_t> values, uint32_t bits) {
  const uint32_t mask = bits >= 32 ? ~uint32_t{0} : (uint32_t{1} << bits) - 1;
  for (auto& v : values) v &= mask;
}

}  // namespace tacit::secagg
