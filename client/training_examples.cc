#include "client/training_examples.h"

#include "absl/strings/str_cat.h"
#include "common/event_features.h"
#include "common/hashed_vocab.h"
#include "common/status_macros.h"

namespace tacit {

absl::StatusOr<TrainingExamples> MakeTrainingExamples(EventStore& store,
                                                      const std::string& person_id,
                                                      const TimeRange& range,
                                                      const TrainingConfig& config) {
  if (config.window_length < 1 || config.window_stride < 1) {
    return absl::InvalidArgumentError(absl::StrCat("window length ", config.window_length,
                                                   " and stride ", config.window_stride,
                                                   " must both be >= 1"));
  }
  TACIT_ASSIGN_OR_RETURN(HashedVocabulary vocab,
                         HashedVocabulary::Create(config.vocab_size, config.vocab_salt));
  EventTokenizer tokenizer(std::move(vocab));
  std::vector<int32_t> stream;
  TACIT_RETURN_IF_ERROR(store.ForEach(range, {}, [&](const Event& e) {
    tokenizer.Add(e, &stream);
    return absl::OkStatus();
  }));
  TrainingExamples out;
  TACIT_ASSIGN_OR_RETURN(out.tokens,
                         SplitInTime(person_id, std::move(stream), config.train_fraction));
  out.window_length = config.window_length;
  out.train_windows = MakeWindows(out.tokens.train, config.window_length, config.window_stride);
  return out;
}

}  // namespace tacit
