#pragma once

// The owner's privacy policy: which events the laptop keeps. Rules that no
// policy can switch off: typed characters become key classes, window titles
// and command arguments are never stored, and everything typed or clicked
// during secure input (password fields) is dropped. The configurable part is
// read from a JSON file; docs/data.md documents every key and its default.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tacit {

struct PrivacyPolicy {
  enum class AppMode { kDenyList, kAllowList };
  // deny_list: drop events of the listed apps; allow_list: keep only events
  // of the listed apps (events whose app is unknown are dropped too).
  AppMode app_mode = AppMode::kDenyList;
  std::vector<std::string> deny_apps = {"1password", "bitwarden",       "keepassxc", "lastpass",
                                        "dashlane",  "keychain-access", "seahorse"};
  std::vector<std::string> allow_apps;
  bool keep_shortcuts = true;     // false: ctrl+c is kept as a plain key class
  bool keep_key_releases = true;  // false: only key presses are kept
  bool keep_mouse_moves = true;   // false: clicks, drags and scrolls only
};

// The defaults above as a JSON document (what `tacit-client` writes on first use).
std::string DefaultPrivacyPolicyJson();

// Parses a policy; missing keys keep their defaults, unknown keys and wrong
// types are InvalidArgument naming `source`, the key and what is expected.
absl::StatusOr<PrivacyPolicy> ParsePrivacyPolicyJson(absl::string_view json,
                                                     absl::string_view source = "policy");
absl::StatusOr<PrivacyPolicy> LoadPrivacyPolicy(const std::string& path);

}  // namespace tacit
