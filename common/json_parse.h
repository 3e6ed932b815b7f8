#pragma once

// The one way tacit parses JSON that crossed a trust boundary (a task file, a
// Task from the coordinator, a privacy policy, an import, a state file).
// nlohmann::json::parse throws out_of_range on a number beyond the double
// range (1e400), not only parse_error, so a catch of parse_error alone let
// `check-config` abort; and nlohmann copies, compares and dumps documents
// recursively, so a document nested 100,000 deep overflows the stack later. ParseJson never throws
// and refuses documents deeper than `max_depth`, naming `what` (a path or
// "Task.model.hyperparameters_json").

#include <cstdint>
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

// `object[key]` when `object` is an object holding a string (an integer, a
// boolean) there, else `fallback`. nlohmann's value() throws type_error when
// the key holds another type; these never throw, for state files a crash or
// an edit may have damaged.
std::string StringOr(const nlohmann::json& object, const char* key, std::string fallback);
int64_t IntOr(const nlohmann::json& object, const char* key, int64_t fallback);
bool BoolOr(const nlohmann::json& object, const char* key, bool fallback);

}  // namespace tacit
