#include "common/json_parse.h"

#include "absl/strings/str_cat.h"

namespace tacit {
namespace {

// Thrown from the parser callback to stop at the first level too deep,
// before the parser allocates the rest.
struct TooDeep {
  int depth;
};

}  // namespace

absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text, absl::string_view what,
                                         JsonParseOptions options) {
  const int max_depth = options.max_depth;
  // `depth` is the number of enclosing containers; a container opening at
  // depth d is at nesting level d + 1.
  nlohmann::json::parser_callback_t limit_depth =
      [max_depth](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
        if ((event == nlohmann::json::parse_event_t::object_start ||
             event == nlohmann::json::parse_event_t::array_start) &&
            depth >= max_depth) {
          throw TooDeep{depth + 1};
        }
        return true;
      };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), limit_depth,
                                 /*allow_exceptions=*/true, options.ignore_comments);
  } catch (const TooDeep& e) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON: nested deeper than ",
                                                   max_depth, " levels (reached level ", e.depth,
                                                   "); flatten the document"));
  } catch (const nlohmann::json::exception& e) {
    // parse_error (syntax) and out_of_range (a number beyond the double range, 1e400).
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON: ", e.what()));
  }
}

namespace {

const nlohmann::json* Member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

}  // namespace

std::string StringOr(const nlohmann::json& object, const char* key, std::string fallback) {
  const nlohmann::json* v = Member(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : fallback;
}

int64_t IntOr(const nlohmann::json& object, const char* key, int64_t fallback) {
  const nlohmann::json* v = Member(object, key);
  // An unsigned value above INT64_MAX would wrap: treat it as absent.
  if (v == nullptr || !v->is_number_integer()) return fallback;
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return fallback;
  }
  return v->get<int64_t>();
}

bool BoolOr(const nlohmann::json& object, const char* key, bool fallback) {
  const nlohmann::json* v = Member(object, key);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

}  // namespace tacit
