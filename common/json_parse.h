#pragma once

// The one way tacit parses JSON that crossed a trust boundary (a task file, a
// Task from the coordinator, a privacy policy, an import, a state file).
// nlohmann::json::parse throws out_of_range on a number beyond the double
// range (1e400), not only parse_error, so a catch of parse_error alone let
// `check-config` abort; and nlohmann copies, compares and dumps documents
// recursively, so a document nested 100,000 deep overflows the stack later. ParseJson never throws
// and refuses documents deeper than `max_depth`, naming `what` (a path or
// "Task.model.hyperparameters_json").

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace tacit {

struct JsonParseOptions {
  bool ignore_comments = false;  // allow // and /* */ (hand-written config files)
  int max_depth = 64;            // objects/arrays nested deeper are refused
};

// InvalidArgument "<what> is not valid JSON: <reason>" on a syntax error, a
// number out of the double range, or nesting deeper than options.max_depth.
absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text, absl::string_view what,
                                         JsonParseOptions options = {});

}  // namespace tacit
