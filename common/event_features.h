#pragma once

// Events -> feature strings -> hashed tokens: the step every client runs the
// same way so that the same action maps to the same token everywhere.
//   key press      "key:letter"      shortcut     "chord:ctrl+c"
//   mouse down     "click:r3c2" (left), "rclick:r3c2", "mclick:r3c2"
//   mouse move     "move:r3c2"       drag         "drag:r3c2"
//   scroll         "scroll:down"     app focus    "app:code"
//   shell command  "cmd:ls"
// rXcY is the cell of a kScreenGrid x kScreenGrid grid over the screen (row
// from the top, column from the left, 0-based). Key releases and mouse-ups
// carry no token (their press already did); runs of moves or drags within
// one cell give one token (EventTokenizer), so a slow mouse does not drown
// the stream.

#include <cstdint>
#include <string>
#include <vector>

#include "common/event.h"
#include "common/hashed_vocab.h"

namespace tacit {

inline constexpr int kScreenGrid = 4;

// The feature string of one event, or "" for events that carry no token.
std::string EventFeature(const Event& event);

// Turns a time-ordered event stream into tokens, collapsing repeated
// move/drag features. One tokenizer per person stream.
class EventTokenizer {
 public:
  explicit EventTokenizer(HashedVocabulary vocabulary) : vocabulary_(std::move(vocabulary)) {}

  // Appends 0 or 1 token for `event` to `out`; returns whether it did.
  bool Add(const Event& event, std::vector<int32_t>* out);

  const HashedVocabulary& vocabulary() const { return vocabulary_; }

 private:
  HashedVocabulary vocabulary_;
  std::string last_pointer_feature_;  // last move/drag feature, for collapsing
};

}  // namespace tacit
