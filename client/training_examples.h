#pragma once

// A person's stored events -> fixed-length token sequences for local
// training: events in time order -> feature strings -> hashed tokens (the
// vocabulary size and salt come from the task config, so every client maps
// the same event to the same token) -> time-ordered train/test split ->
// training windows over the train part.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/store/event_store.h"
#include "common/token_stream.h"

namespace tacit {

struct TrainingConfig {
  uint32_t vocab_size = 4096;
  std::string vocab_salt;
  double train_fraction = 0.8;
  int window_length = 64;  // inputs per window (a window holds length + 1 tokens)
  int window_stride = 64;
};

struct TrainingExamples {
  PersonTokens tokens;  // the whole stream, split in time
  int window_length = 0;
  std::vector<int32_t> train_windows;  // MakeWindows(tokens.train), (length + 1) per window
  size_t window_count() const {
    return window_length > 0 ? train_windows.size() / static_cast<size_t>(window_length + 1) : 0;
  }
};

// InvalidArgument for a bad vocabulary, fraction or window shape; store
// errors pass through.
absl::StatusOr<TrainingExamples> MakeTrainingExamples(EventStore& store,
                                                      const std::string& person_id,
                                                      const TimeRange& range,
                                                      const TrainingConfig& config);

}  // namespace tacit
