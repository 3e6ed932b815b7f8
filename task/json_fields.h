#pragma once

// Reads one JSON object of a config file field by field and turns every
// mistake into an error that names the full key ("cohort.size"): unknown keys
// (with the known ones listed), wrong types and out-of-range values. The task
// config uses it; the simulator's config reuses the same style.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tacit {

// A closed or open numeric interval used in range checks.
struct Bounds {
  double low;
  double high;
  bool low_open = false;   // true: value must be > low
  bool high_open = false;  // true: value must be < high
};

class JsonFields {
 public:
  // `object` must be a JSON object; `path` is its dotted key ("" for the root).
  static absl::StatusOr<JsonFields> Open(const nlohmann::json& object, std::string path);

  // Each reader leaves `*out` unchanged (its default) when the key is absent,
  // unless `required` is set, in which case absence is an error.
  absl::Status String(const std::string& key, std::string* out, bool required = false);
  absl::Status NonEmptyString(const std::string& key, std::string* out, bool required = false);
  absl::Status Bool(const std::string& key, bool* out);
  absl::Status Int(const std::string& key, int64_t* out, int64_t low, int64_t high,
                   bool required = false);
  absl::Status Int(const std::string& key, int* out, int64_t low, int64_t high,
                   bool required = false);
  absl::Status Double(const std::string& key, double* out, Bounds bounds);
  // A string that must be one of `allowed`.
  absl::Status Choice(const std::string& key, std::string* out,
                      const std::vector<std::string>& allowed);
  // A nested object read with its own JsonFields; absent means empty object.
  absl::StatusOr<JsonFields> Object(const std::string& key);
  // A nested object kept as-is (e.g. model hyperparameters passed through).
  absl::Status RawObject(const std::string& key, nlohmann::json* out);

  // Fails on the first key that no reader asked for (a typo, most likely).
  absl::Status RejectUnknownKeys() const;

  // "cohort.size" for key "size" under path "cohort".
  std::string KeyPath(const std::string& key) const;

 private:
  JsonFields(const nlohmann::json* object, std::string path)
      : object_(object), path_(std::move(path)) {}
  // Marks `key` as known; returns the value or nullptr when absent.
  const nlohmann::json* Find(const std::string& key);
  absl::Status TypeError(const std::string& key, const char* expected,
                         const nlohmann::json& got) const;
  absl::Status Missing(const std::string& key) const;

  const nlohmann::json* object_;
  std::string path_;
  std::set<std::string> known_;
};

// A short name of a JSON value's type for error messages ("string", ...).
std::string JsonTypeName(const nlohmann::json& value);

}  // namespace tacit
