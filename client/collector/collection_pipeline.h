#pragma once

// The live collector's path from a raw event to the encrypted store, without
// any X: privacy filter first (nothing unfiltered is ever held), then a
// pending list that waits for the keyboard-grab check, then a batch that is
// written to the store in one transaction.
//
// The grab rule: an event is kept only when the grab checks on both sides of
// it found no other program holding the keyboard. Events after the last
// check wait in `pending`; a check that finds a grab drops them, and so does
// the first check after a grab ends (the grab may have ended between the
// checks, with typing into the password prompt before it did).

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "client/privacy_filter.h"
#include "client/raw_event.h"
#include "client/store/event_store.h"

namespace tacit::collector {

class CollectionPipeline {
 public:
  struct Counts {
    int64_t stored = 0;                     // written to the store
    int64_t dropped_paused = 0;             // arrived while collection was paused
    int64_t dropped_keyboard_grab = 0;      // in an interval touched by a foreign grab
    int64_t dropped_before_denied_app = 0;  // waiting when a denied app got the focus
    int64_t batches = 0;
    int64_t last_batch_ms = 0;  // when the last batch was written; 0 = never
  };

  explicit CollectionPipeline(PrivacyPolicy policy) : filter_(std::move(policy)) {}

  // A new policy (the owner edited privacy_policy.json): applies to the next
  // event. Events already filtered stay as they are.
  void SetPolicy(PrivacyPolicy policy);
  // While paused nothing is taken, and what was pending is dropped.
  void SetPaused(bool paused);
  bool paused() const { return paused_; }

  // Whether events in `app` pass the current policy's app lists.
  bool AllowsApp(absl::string_view app) const { return filter_.AllowsApp(app); }

  // Filters `raw` and holds the stored form until the next grab check.
  void Offer(const RawEvent& raw);

  // A denied app just got the focus. The window manager announces a focus
  // change after it happened, so keys typed into the denied app in between
  // were attributed to the app before it: what waits for the next grab check
  // is dropped.
  void DeniedAppFocused();

  // The result of one grab check (see the rule above).
  void GrabChecked(bool foreign_grab);
  bool grabbed() const { return last_check_grabbed_; }

  // Writes the batch to `store` in one transaction (nothing when empty).
  absl::Status Flush(EventStore& store, int64_t now_ms);
  size_t batch_size() const { return batch_.size(); }
  size_t pending_size() const { return pending_.size(); }

  const Counts& counts() const { return counts_; }
  // The filter's counts over every policy this pipeline had.
  PrivacyFilter::Counts filtered() const;

 private:
  PrivacyFilter filter_;
  PrivacyFilter::Counts earlier_filters_;  // counts of filters replaced by SetPolicy
  bool paused_ = false;
  bool last_check_grabbed_ = false;
  std::vector<Event> pending_;
  std::vector<Event> batch_;
  Counts counts_;
};

}  // namespace tacit::collector
