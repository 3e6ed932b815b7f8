#include "client/privacy_policy.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/privacy_filter.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

using nlohmann::json;

absl::Status Bad(absl::string_view source, absl::string_view key, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": key '", key, "' ", what, " (see docs/data.md, privacy policy)"));
}

absl::Status ReadBool(const json& value, absl::string_view source, absl::string_view key,
                      bool* out) {
  if (!value.is_boolean()) return Bad(source, key, "must be true or false");
  *out = value.get<bool>();
  return absl::OkStatus();
}

absl::Status ReadApps(const json& value, absl::string_view source, absl::string_view key,
                      std::vector<std::string>* out) {
  if (!value.is_array()) return Bad(source, key, "must be a list of app identifiers");
  out->clear();
  for (const json& app : value) {
    if (!app.is_string()) return Bad(source, key, "must contain only strings");
    std::string id = NormalizeAppId(app.get<std::string>());
    if (id.empty()) return Bad(source, key, "contains an empty app identifier");
    out->push_back(std::move(id));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DefaultPrivacyPolicyJson() {
  PrivacyPolicy p;
  json j = {{"app_mode", "deny_list"},
            {"deny_apps", p.deny_apps},
            {"allow_apps", p.allow_apps},
            {"keep_shortcuts", p.keep_shortcuts},
            {"keep_key_releases", p.keep_key_releases},
            {"keep_mouse_moves", p.keep_mouse_moves}};
  return j.dump(2) + "\n";
}

absl::StatusOr<PrivacyPolicy> ParsePrivacyPolicyJson(absl::string_view text,
                                                     absl::string_view source) {
  absl::StatusOr<json> parsed = ParseJson(text, source);
  if (!parsed.ok()) return parsed.status();
  const json& doc = *parsed;
  if (!doc.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a JSON object; start from DefaultPrivacyPolicyJson()"));
  }
  PrivacyPolicy policy;
  for (const auto& [key, value] : doc.items()) {
    if (key == "app_mode") {
      std::string mode = value.is_string() ? value.get<std::string>() : "";
      if (mode == "deny_list") {
        policy.app_mode = PrivacyPolicy::AppMode::kDenyList;
      } else if (mode == "allow_list") {
        policy.app_mode = PrivacyPolicy::AppMode::kAllowList;
      } else {
        return Bad(source, key, "must be \"deny_list\" or \"allow_list\"");
      }
    } else if (key == "deny_apps") {
      TACIT_RETURN_IF_ERROR(ReadApps(value, source, key, &policy.deny_apps));
    } else if (key == "allow_apps") {
      TACIT_RETURN_IF_ERROR(ReadApps(value, source, key, &policy.allow_apps));
    } else if (key == "keep_shortcuts") {
      TACIT_RETURN_IF_ERROR(ReadBool(value, source, key, &policy.keep_shortcuts));
    } else if (key == "keep_key_releases") {
      TACIT_RETURN_IF_ERROR(ReadBool(value, source, key, &policy.keep_key_releases));
    } else if (key == "keep_mouse_moves") {
      TACIT_RETURN_IF_ERROR(ReadBool(value, source, key, &policy.keep_mouse_moves));
    } else {
      return Bad(source, key,
                 "is not a policy setting; known: app_mode, deny_apps, allow_apps, "
                 "keep_shortcuts, keep_key_releases, keep_mouse_moves");
    }
  }
  if (policy.app_mode == PrivacyPolicy::AppMode::kAllowList && policy.allow_apps.empty()) {
    return Bad(source, "allow_apps",
               "is empty while app_mode is allow_list, which would keep nothing; list the "
               "apps to keep");
  }
  return policy;
}

absl::StatusOr<PrivacyPolicy> LoadPrivacyPolicy(const std::string& path) {
  TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParsePrivacyPolicyJson(text, path);
}

}  // namespace tacit
