#include "client/person_tokens.h"

#include "common/event_features.h"
#include "common/hashed_vocab.h"
#include "common/status_macros.h"

namespace tacit {

absl::StatusOr<PersonTokens> LoadPersonTokens(EventStore& store, const std::string& person_id,
                                              const TimeRange& range,
                                              const TokenizationConfig& config) {
  TACIT_ASSIGN_OR_RETURN(HashedVocabulary vocab,
                         HashedVocabulary::Create(config.vocab_size, config.vocab_salt));
  EventTokenizer tokenizer(std::move(vocab));
  std::vector<int32_t> stream;
  TACIT_RETURN_IF_ERROR(store.ForEach(range, {}, [&](const Event& e) {
    tokenizer.Add(e, &stream);
    return absl::OkStatus();
  }));
  return SplitInTime(person_id, std::move(stream), config.train_fraction);
}

}  // namespace tacit
