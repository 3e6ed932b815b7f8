#pragma once

// A person's stored events -> the token stream local training reads: events
// in time order -> feature strings -> hashed tokens (the vocabulary size and
// salt come from the task config, so every client maps the same event to the
// same token) -> time-ordered train/test split. Windowing is the trainer's
// job, at the task's window stride (models/training.h).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/store/event_store.h"
#include "common/token_stream.h"

namespace tacit {

struct TokenizationConfig {
  uint32_t vocab_size = 4096;
  std::string vocab_salt;
  double train_fraction = 0.8;
};

// InvalidArgument for a bad vocabulary or fraction; store errors pass through.
absl::StatusOr<PersonTokens> LoadPersonTokens(EventStore& store, const std::string& person_id,
                                              const TimeRange& range,
                                              const TokenizationConfig& config);

}  // namespace tacit
