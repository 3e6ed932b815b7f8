#include "client/runtime/training_data.h"

#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/person_tokens.h"
#include "client/store/event_store.h"
#include "common/event_features.h"
#include "common/hashed_vocab.h"
#include "common/status_macros.h"

namespace tacit::runtime {
namespace {

// The trainer's rule (models/training.cc): a training stream of at least 2 tokens.
constexpr size_t kWindowTokens = 2;

TokenizationConfig TokenizationOf(const TaskConfig& task) {
  TokenizationConfig config;
  config.vocab_size = static_cast<uint32_t>(task.vocab.size);
  config.vocab_salt = task.vocab.salt;
  return config;
}

}  // namespace

absl::StatusOr<PersonTokens> LoadTrainingTokens(const std::string& dir,
                                                const std::string& device_id,
                                                const TaskConfig& task) {
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store, EventStore::OpenInDirectory(dir));
  // The store closes on return: the owner's commands keep working while we train.
  return LoadPersonTokens(*store, device_id, TimeRange{}, TokenizationOf(task));
}

absl::StatusOr<std::string> NoTrainingDataInStore(const std::string& dir,
                                                  const std::string& device_id,
                                                  const TaskConfig& task) {
  const TokenizationConfig config = TokenizationOf(task);
  TACIT_ASSIGN_OR_RETURN(HashedVocabulary vocabulary,
                         HashedVocabulary::Create(config.vocab_size, config.vocab_salt));
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store, EventStore::OpenInDirectory(dir));
  // LoadPersonTokens's tokens, as far as they go: SplitInTime trains on the
  // oldest floor(fraction * n) of n tokens, so a prefix whose own split has
  // a window settles it, and more tokens only lengthen the training part.
  EventTokenizer tokenizer(std::move(vocabulary));
  std::vector<int32_t> stream;
  const absl::Status enough = absl::CancelledError("a training window is certain");
  absl::Status read = store->ForEach(TimeRange{}, {}, [&](const Event& event) {
    tokenizer.Add(event, &stream);
    const auto training =
        static_cast<size_t>(std::floor(config.train_fraction * static_cast<double>(stream.size())));
    return training >= kWindowTokens ? enough : absl::OkStatus();
  });
  if (!read.ok() && read != enough) return read;
  TACIT_ASSIGN_OR_RETURN(PersonTokens tokens,
                         SplitInTime(device_id, std::move(stream), config.train_fraction));
  return NoTrainingWindowReason(tokens);
}

std::string NoTrainingWindowReason(const PersonTokens& tokens) {
  if (tokens.train.size() >= kWindowTokens) return "";
  return absl::StrCat(
      "no training data: the local store gives ", tokens.train.size() + tokens.test.size(),
      " tokens, ", tokens.train.size(),
      " of them for training (at least 2 make a training window); import or collect activity "
      "(`tacit-client import`, `tacit-client collect`) or generate synthetic activity "
      "(`tacit-client generate-activity`); nothing is sent until then");
}

}  // namespace tacit::runtime
