// tacit's own JSON-lines raw event format (documented in docs/data.md): one
// object per line, e.g.
//   {"t":1700000000000,"kind":"key_press","key":"c","mods":["ctrl"],"app":"code"}
// Unknown keys are errors, so a collector's typo is caught rather than lost.

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/importers/line_parsers.h"
#include "common/json_parse.h"
#include "common/status_macros.h"

namespace tacit::importers {
namespace {

using nlohmann::json;

absl::Status WrongType(const std::string& key, absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat("field \"", key, "\" must be ", expected));
}

absl::Status GetString(const json& v, const std::string& key, std::string* out) {
  if (!v.is_string()) return WrongType(key, "a string");
  *out = v.get<std::string>();
  return absl::OkStatus();
}

absl::Status GetNumber(const json& v, const std::string& key, double* out) {
  if (!v.is_number()) return WrongType(key, "a number");
  *out = v.get<double>();
  if (!std::isfinite(*out)) return WrongType(key, "a finite number");
  return absl::OkStatus();
}

absl::Status GetInt(const json& v, const std::string& key, int64_t lo, int64_t hi, int64_t* out) {
  if (!v.is_number_integer()) return WrongType(key, "an integer");
  *out = v.get<int64_t>();
  if (*out < lo || *out > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", key, "\" = ", *out, " is outside [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

absl::Status ParseModifiers(const json& v, uint8_t* out) {
  if (!v.is_array()) return WrongType("mods", "a list of \"ctrl\", \"alt\", \"shift\", \"meta\"");
  for (const json& m : v) {
    std::string name = m.is_string() ? m.get<std::string>() : "";
    if (name == "ctrl") {
      *out |= kModCtrl;
    } else if (name == "alt") {
      *out |= kModAlt;
    } else if (name == "shift") {
      *out |= kModShift;
    } else if (name == "meta") {
      *out |= kModMeta;
    } else {
      return WrongType("mods", "a list of \"ctrl\", \"alt\", \"shift\", \"meta\"");
    }
  }
  return absl::OkStatus();
}

absl::Status ParseField(const std::string& key, const json& v, RawEvent* e, bool* has_time,
                        bool* has_kind) {
  int64_t i = 0;
  if (key == "v") {
    TACIT_RETURN_IF_ERROR(GetInt(v, key, 1, 1, &i));
  } else if (key == "t") {
    TACIT_RETURN_IF_ERROR(GetInt(v, key, INT64_MIN / 4, INT64_MAX / 4, &e->time_ms));
    *has_time = true;
  } else if (key == "kind") {
    std::string name;
    TACIT_RETURN_IF_ERROR(GetString(v, key, &name));
    TACIT_ASSIGN_OR_RETURN(e->kind, ParseEventKind(name));
    *has_kind = true;
  } else if (key == "key") {
    TACIT_RETURN_IF_ERROR(GetString(v, key, &e->key));
  } else if (key == "key_code") {
    TACIT_RETURN_IF_ERROR(GetInt(v, key, 0, 1024, &i));
    e->key_code = static_cast<int>(i);
  } else if (key == "mods") {
    TACIT_RETURN_IF_ERROR(ParseModifiers(v, &e->modifiers));
  } else if (key == "button") {
    std::string name;
    TACIT_RETURN_IF_ERROR(GetString(v, key, &name));
    TACIT_ASSIGN_OR_RETURN(e->button, ParseMouseButton(name));
  } else if (key == "scroll") {
    std::string name;
    TACIT_RETURN_IF_ERROR(GetString(v, key, &name));
    TACIT_ASSIGN_OR_RETURN(e->scroll, ParseScrollDirection(name));
  } else if (key == "x") {
    TACIT_RETURN_IF_ERROR(GetNumber(v, key, &e->x));
  } else if (key == "y") {
    TACIT_RETURN_IF_ERROR(GetNumber(v, key, &e->y));
  } else if (key == "screen_w" || key == "screen_h") {
    TACIT_RETURN_IF_ERROR(GetInt(v, key, 0, 65535, &i));
    (key == "screen_w" ? e->screen_width : e->screen_height) = static_cast<int>(i);
  } else if (key == "app") {
    TACIT_RETURN_IF_ERROR(GetString(v, key, &e->app));
  } else if (key == "title") {
    TACIT_RETURN_IF_ERROR(GetString(v, key, &e->window_title));
  } else if (key == "command") {
    TACIT_RETURN_IF_ERROR(GetString(v, key, &e->command_line));
  } else if (key == "secure") {
    if (!v.is_boolean()) return WrongType(key, "true or false");
    e->secure_input = v.get<bool>();
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown field \"", key.substr(0, 40),
        "\" (known: v, t, kind, key, key_code, mods, button, scroll, x, y, screen_w, screen_h, "
        "app, title, command, secure)"));
  }
  return absl::OkStatus();
}

class JsonLinesParser : public LineParser {
 public:
  absl::Status Parse(absl::string_view line, int64_t, std::vector<RawEvent>* out) override {
    absl::StatusOr<json> parsed = ParseJson(line, "the line");
    if (!parsed.ok()) return parsed.status();
    const json& doc = *parsed;
    if (!doc.is_object()) return absl::InvalidArgumentError("not a JSON object");
    RawEvent e;
    bool has_time = false, has_kind = false;
    for (const auto& [key, value] : doc.items()) {
      TACIT_RETURN_IF_ERROR(ParseField(key, value, &e, &has_time, &has_kind));
    }
    if (!has_time) return absl::InvalidArgumentError("missing field \"t\" (ms since the epoch)");
    if (!has_kind) return absl::InvalidArgumentError("missing field \"kind\"");
    out->push_back(std::move(e));
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<LineParser> MakeJsonLinesParser(const ImportOptions&) {
  return std::make_unique<JsonLinesParser>();
}

}  // namespace tacit::importers
