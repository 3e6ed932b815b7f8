#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit {

// One person's activity as a time-ordered stream of hashed tokens, split in
// time: the first part trains, the rest tests. Evaluation predicts each test
// token once from the tokens before it (which may reach back into `train`).
// This is the contract between the data side (events -> tokens) and models/.
struct PersonTokens {
  std::string person_id;
  std::vector<int32_t> train;
  std::vector<int32_t> test;
};

// Splits `stream` so that the first floor(train_fraction * n) tokens train.
// InvalidArgument unless 0 < train_fraction < 1.
absl::StatusOr<PersonTokens> SplitInTime(std::string person_id, std::vector<int32_t> stream,
                                         double train_fraction);

// Fixed-length training windows over a stream: each window holds
// `length + 1` consecutive tokens (inputs are the first `length`, targets the
// last `length`, so every position is predicted). Windows start every
// `stride` tokens; when tokens remain after the last such window, one more
// window ends exactly at the stream's end, so every token after the first is
// a target at least once. A stream shorter than a window gives one window
// left-padded with HashedVocabulary::kPadding. Returns the windows
// concatenated (size = count * (length + 1)); fewer than 2 tokens give none.
std::vector<int32_t> MakeWindows(const std::vector<int32_t>& stream, int length, int stride);

}  // namespace tacit
