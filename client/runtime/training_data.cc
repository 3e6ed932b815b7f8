#include "client/runtime/training_data.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "client/person_tokens.h"
#include "client/store/event_store.h"
#include "common/status_macros.h"

namespace tacit::runtime {

absl::StatusOr<PersonTokens> LoadTrainingTokens(const std::string& dir,
                                                const std::string& device_id,
                                                const TaskConfig& task) {
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store, EventStore::OpenInDirectory(dir));
  TokenizationConfig config;
  config.vocab_size = static_cast<uint32_t>(task.vocab.size);
  config.vocab_salt = task.vocab.salt;
  // The store closes on return: the owner's commands keep working while we train.
  return LoadPersonTokens(*store, device_id, TimeRange{}, config);
}

std::string NoTrainingWindowReason(const PersonTokens& tokens) {
  if (tokens.train.size() >= 2) return "";
  return absl::StrCat(
      "no training data: the local store gives ", tokens.train.size() + tokens.test.size(),
      " tokens, ", tokens.train.size(),
      " of them for training (at least 2 make a training window); import or collect activity "
      "(`tacit-client import`, `tacit-client collect`) or generate synthetic activity "
      "(`tacit-client generate-activity`); nothing is sent until then");
}

}  // namespace tacit::runtime
