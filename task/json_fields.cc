#include "task/json_fields.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tacit {
namespace {

std::string Shorten(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string DescribeBounds(const Bounds& b) {
  std::string low = absl::StrCat(b.low_open ? "greater than " : "at least ", b.low);
  if (std::isinf(b.high)) return low;
  return absl::StrCat(low, " and ", b.high_open ? "less than " : "at most ", b.high);
}

}  // namespace

std::string JsonTypeName(const nlohmann::json& value) {
  if (value.is_boolean()) return "boolean";
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  return value.type_name();
}

absl::StatusOr<JsonFields> JsonFields::Open(const nlohmann::json& object, std::string path) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config ", path.empty() ? "root" : "key '" + path + "'",
        ": expected an object ({...}), got ", JsonTypeName(object), " ", Shorten(object)));
  }
  return JsonFields(&object, std::move(path));
}

std::string JsonFields::KeyPath(const std::string& key) const {
  return path_.empty() ? key : absl::StrCat(path_, ".", key);
}

const nlohmann::json* JsonFields::Find(const std::string& key) {
  known_.insert(key);
  auto it = object_->find(key);
  return it == object_->end() ? nullptr : &*it;
}

absl::Status JsonFields::TypeError(const std::string& key, const char* expected,
                                   const nlohmann::json& got) const {
  return absl::InvalidArgumentError(absl::StrCat("config key '", KeyPath(key), "': expected ",
                                                 expected, ", got ", JsonTypeName(got), " ",
                                                 Shorten(got)));
}

absl::Status JsonFields::Missing(const std::string& key) const {
  return absl::InvalidArgumentError(
      absl::StrCat("config key '", KeyPath(key), "' is required but missing; add it"));
}

absl::Status JsonFields::String(const std::string& key, std::string* out, bool required) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return required ? Missing(key) : absl::OkStatus();
  if (!v->is_string()) return TypeError(key, "a string", *v);
  *out = v->get<std::string>();
  return absl::OkStatus();
}

absl::Status JsonFields::NonEmptyString(const std::string& key, std::string* out, bool required) {
  std::string value = *out;
  if (absl::Status s = String(key, &value, required); !s.ok()) return s;
  if (value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config key '", KeyPath(key), "' must not be empty"));
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status JsonFields::Bool(const std::string& key, bool* out) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_boolean()) return TypeError(key, "true or false", *v);
  *out = v->get<bool>();
  return absl::OkStatus();
}

absl::Status JsonFields::Int(const std::string& key, int64_t* out, int64_t low, int64_t high,
                             bool required) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return required ? Missing(key) : absl::OkStatus();
  // 3.0 is accepted as 3; 3.5 is not an integer.
  bool too_big = false;
  int64_t value = 0;
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(high)) {
    too_big = true;
  } else if (v->is_number_integer()) {
    value = v->get<int64_t>();
  } else if (v->is_number_float() && std::nearbyint(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e15) {
    value = static_cast<int64_t>(v->get<double>());
  } else {
    return TypeError(key, "an integer", *v);
  }
  if (too_big || value < low || value > high) {
    return absl::OutOfRangeError(absl::StrCat("config key '", KeyPath(key), "' = ", Shorten(*v),
                                              " is out of range: must be between ", low, " and ",
                                              high));
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status JsonFields::Int(const std::string& key, int* out, int64_t low, int64_t high,
                             bool required) {
  int64_t value = *out;
  if (absl::Status s = Int(key, &value, low, high, required); !s.ok()) return s;
  *out = static_cast<int>(value);
  return absl::OkStatus();
}

absl::Status JsonFields::Double(const std::string& key, double* out, Bounds bounds) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_number()) return TypeError(key, "a number", *v);
  double value = v->get<double>();
  bool low_ok = bounds.low_open ? value > bounds.low : value >= bounds.low;
  bool high_ok = bounds.high_open ? value < bounds.high : value <= bounds.high;
  if (!std::isfinite(value) || !low_ok || !high_ok) {
    return absl::OutOfRangeError(absl::StrCat("config key '", KeyPath(key), "' = ", Shorten(*v),
                                              " is out of range: must be ",
                                              DescribeBounds(bounds)));
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status JsonFields::Choice(const std::string& key, std::string* out,
                                const std::vector<std::string>& allowed) {
  std::string value = *out;
  if (absl::Status s = String(key, &value); !s.ok()) return s;
  for (const std::string& a : allowed) {
    if (a == value) {
      *out = value;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("config key '", KeyPath(key), "' = \"", value,
                   "\" is not one of: ", absl::StrJoin(allowed, ", ")));
}

absl::StatusOr<JsonFields> JsonFields::Object(const std::string& key) {
  static const nlohmann::json* const kEmpty = new nlohmann::json(nlohmann::json::object());
  const nlohmann::json* v = Find(key);
  return JsonFields::Open(v == nullptr ? *kEmpty : *v, KeyPath(key));
}

absl::Status JsonFields::RawObject(const std::string& key, nlohmann::json* out) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_object()) return TypeError(key, "an object ({...})", *v);
  *out = *v;
  return absl::OkStatus();
}

absl::Status JsonFields::RejectUnknownKeys() const {
  for (auto it = object_->begin(); it != object_->end(); ++it) {
    if (known_.count(it.key()) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown config key '", KeyPath(it.key()),
          "'; check the spelling (known keys here: ", absl::StrJoin(known_, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tacit
