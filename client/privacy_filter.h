#pragma once

// Applied to every raw event before anything is stored (collectors, importers
// and the generator all go through it). See client/privacy_policy.h.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "client/command_name.h"
#include "client/known_commands.h"
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

// "code" from "/Applications/Code.app" or "Code.exe": lower case, path and
// extension removed, spaces as '-', only [a-z0-9._-], at most 64 bytes. For
// matching the policy's app lists.
std::string NormalizeAppId(absl::string_view app);

// Stored instead of an app name that is not a plain name.
inline constexpr absl::string_view kUnknownApp = "<unknown-app>";

// The app id as stored: NormalizeAppId when that loses nothing; kUnknownApp
// when the string, folders included, holds anything but [A-Za-z0-9 ._-], '/'
// and '\\' (a "C:" drive in front allowed), or the name is longer than 64
// bytes, since a normalized fragment of such a string (a URL, "k=v/x", a
// quoted phrase) could be a fragment of a secret.
std::string StoredAppId(absl::string_view app);

class PrivacyFilter {
 public:
  struct Counts {
    int64_t kept = 0;
    int64_t dropped_secure_input = 0;
    int64_t dropped_by_app = 0;
    int64_t dropped_by_policy = 0;  // kinds the policy does not keep, or no command name
    // Kept, with the name replaced by kUnknownCommand / kUnknownApp.
    int64_t replaced_command_names = 0;
    int64_t replaced_app_names = 0;
  };

  explicit PrivacyFilter(PrivacyPolicy policy = PrivacyPolicy());

  // For a live shell: a command name that `known` does not know (no
  // executable in PATH, builtin, alias or function) is stored as
  // kUnknownCommand. Without it (imported logs) only the form of the name is
  // checked (client/command_name.h).
  void VerifyCommandsWith(std::shared_ptr<const KnownCommands> known) {
    known_commands_ = std::move(known);
  }

  // Whether the policy's app lists let events of `app` (a raw name) through.
  bool AllowsApp(absl::string_view app) const { return AppAllowed(NormalizeAppId(app)); }

  // The stored form of `raw`, or nullopt when the policy drops it.
  std::optional<Event> Apply(const RawEvent& raw);

  const Counts& counts() const { return counts_; }
  const PrivacyPolicy& policy() const { return policy_; }

 private:
  bool AppAllowed(const std::string& app_id) const;

  PrivacyPolicy policy_;
  std::shared_ptr<const KnownCommands> known_commands_;
  Counts counts_;
};

}  // namespace tacit
