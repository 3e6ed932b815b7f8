#include "secure_agg/masking.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "secure_agg/protocol.h"

namespace tacit::secagg {
namespace {

constexpr size_t kChunkElements = 4096;  // 16-32 KiB of keystream at a time: stays in L1/L2

template <typename Word>
absl::Status ApplyMasksTyped(absl::Span<const MaskTerm> terms, uint64_t offset,
                             absl::Span<uint64_t> values) {
  constexpr size_t kElementsPerBlock = 16 / sizeof(Word);
  if (offset % kElementsPerBlock != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mask offset ", offset, " is not on a 16-byte block boundary"));
  }
  Word buffer[kChunkElements];
  auto bytes = absl::MakeSpan(reinterpret_cast<uint8_t*>(buffer), sizeof(buffer));
  for (const MaskTerm& term : terms) {
    auto stream = AesCtrStream::Create(term.seed, offset / kElementsPerBlock);
    if (!stream.ok()) return stream.status();
    for (size_t start = 0; start < values.size(); start += kChunkElements) {
      const size_t n = std::min(kChunkElements, values.size() - start);
      // Round up to whole blocks so the stream stays block aligned across chunks.
      const size_t n_bytes = (n * sizeof(Word) + 15) / 16 * 16;
      absl::Status st = stream->Generate(bytes.subspan(0, n_bytes));
      if (!st.ok()) return st;
      uint64_t* out = values.data() + start;
      if (term.sign > 0) {
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

}  // namespace tacit::secagg
