#pragma once

// Applied to every raw event before anything is stored (collectors, importers
// and the generator all go through it). See client/privacy_policy.h.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "client/privacy_policy.h"
#include "client/raw_event.h"
#include "common/event.h"

namespace tacit {

// The class of a key from its label ("a", "BKSP", "ARW_LEFT", "F5", " "), or,
// when the label is empty, from a browser-style key code.
KeyClass KeyClassOf(absl::string_view label, int key_code = 0);

// Canonical name of a key inside a chord: "c", "5", "/", "tab", "left", "f5";
// "key" for anything unrecognized, so no free text reaches a chord.
std::string ChordKeyName(absl::string_view label, int key_code = 0);

// "git" from "/usr/bin/git commit -m 'secret'": the first word, without its
// path; leading VAR=value assignments are skipped; quotes and shell syntax
// characters are removed; at most 64 bytes. "" when there is no name.
std::string CommandName(absl::string_view command_line);

// "code" from "/Applications/Code.app" or "Code.exe": lower case, path and
// extension removed, spaces as '-', only [a-z0-9._-], at most 64 bytes.
std::string NormalizeAppId(absl::string_view app);

class PrivacyFilter {
 public:
  struct Counts {
    int64_t kept = 0;
    int64_t dropped_secure_input = 0;
    int64_t dropped_by_app = 0;
    int64_t dropped_by_policy = 0;  // kinds the policy does not keep, or no command name
  };

  explicit PrivacyFilter(PrivacyPolicy policy = PrivacyPolicy());

  // The stored form of `raw`, or nullopt when the policy drops it.
  std::optional<Event> Apply(const RawEvent& raw);

  const Counts& counts() const { return counts_; }
  const PrivacyPolicy& policy() const { return policy_; }

 private:
  bool AppAllowed(const std::string& app_id) const;

  PrivacyPolicy policy_;
  Counts counts_;
};

}  // namespace tacit
