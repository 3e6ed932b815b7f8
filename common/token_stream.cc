#include "common/token_stream.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/hashed_vocab.h"

namespace tacit {

absl::StatusOr<PersonTokens> SplitInTime(std::string person_id, std::vector<int32_t> stream,
                                         double train_fraction) {
  if (!(train_fraction > 0.0 && train_fraction < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("train fraction ", train_fraction, " must be strictly between 0 and 1"));
  }
  size_t cut = static_cast<size_t>(std::floor(train_fraction * stream.size()));
  PersonTokens out;
  out.person_id = std::move(person_id);
  out.test.assign(stream.begin() + static_cast<std::ptrdiff_t>(cut), stream.end());
  stream.resize(cut);
  out.train = std::move(stream);
  return out;
}

std::vector<int32_t> MakeWindows(const std::vector<int32_t>& stream, int length, int stride) {
  std::vector<int32_t> out;
  if (length < 1 || stride < 1 || stream.size() < 2) return out;
  const size_t span = static_cast<size_t>(length) + 1;
  if (stream.size() <= span) {
    // One left-padded window holding the whole stream.
    out.assign(span - stream.size(), HashedVocabulary::kPadding);
    out.insert(out.end(), stream.begin(), stream.end());
    return out;
  }
  size_t start = 0;
  for (; start + span <= stream.size(); start += static_cast<size_t>(stride)) {
    out.insert(out.end(), stream.begin() + static_cast<std::ptrdiff_t>(start),
               stream.begin() + static_cast<std::ptrdiff_t>(start + span));
  }
  // Tokens after the last full window's end: one more window ending at the
  // stream's end, so every token is a target at least once.
  size_t last_end = start - static_cast<size_t>(stride) + span;
  if (last_end < stream.size()) {
    out.insert(out.end(), stream.end() - static_cast<std::ptrdiff_t>(span), stream.end());
  }
  return out;
}

}  // namespace tacit
