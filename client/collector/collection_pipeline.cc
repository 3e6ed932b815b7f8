#include "client/collector/collection_pipeline.h"

#include <utility>

#include "common/status_macros.h"

namespace tacit::collector {
namespace {

void Add(PrivacyFilter::Counts& to, const PrivacyFilter::Counts& from) {
  to.kept += from.kept;
  to.dropped_secure_input += from.dropped_secure_input;
  to.dropped_by_app += from.dropped_by_app;
  to.dropped_by_policy += from.dropped_by_policy;
  to.replaced_command_names += from.replaced_command_names;
  to.replaced_app_names += from.replaced_app_names;
}

}  // namespace

void CollectionPipeline::SetPolicy(PrivacyPolicy policy) {
  Add(earlier_filters_, filter_.counts());
  filter_ = PrivacyFilter(std::move(policy));
}

void CollectionPipeline::SetPaused(bool paused) {
  paused_ = paused;
  if (paused_) {
    counts_.dropped_paused += static_cast<int64_t>(pending_.size());
    pending_.clear();
  }
}

void CollectionPipeline::Offer(const RawEvent& raw) {
  if (paused_) {
    ++counts_.dropped_paused;
    return;
  }
  std::optional<Event> event = filter_.Apply(raw);
  if (event) pending_.push_back(*std::move(event));
}

void CollectionPipeline::DeniedAppFocused() {
  counts_.dropped_before_denied_app += static_cast<int64_t>(pending_.size());
  pending_.clear();
}

void CollectionPipeline::GrabChecked(bool foreign_grab) {
  if (foreign_grab || last_check_grabbed_) {
    counts_.dropped_keyboard_grab += static_cast<int64_t>(pending_.size());
  } else {
    batch_.insert(batch_.end(), pending_.begin(), pending_.end());
  }
  pending_.clear();
  last_check_grabbed_ = foreign_grab;
}

absl::Status CollectionPipeline::Flush(EventStore& store, int64_t now_ms) {
  if (batch_.empty()) return absl::OkStatus();
  TACIT_RETURN_IF_ERROR(store.Append(batch_));
  counts_.stored += static_cast<int64_t>(batch_.size());
  ++counts_.batches;
  counts_.last_batch_ms = now_ms;
  batch_.clear();
  return absl::OkStatus();
}

PrivacyFilter::Counts CollectionPipeline::filtered() const {
  PrivacyFilter::Counts total = earlier_filters_;
  Add(total, filter_.counts());
  return total;
}

}  // namespace tacit::collector
