#pragma once

// A refused client message: the error the client gets, tagged with the short
// reason the tacit_rejected_messages_total{reason} counter is labelled with.
// The pieces that judge messages (seats, the attempt, the model publisher)
// return these; only the orchestrator counts and logs them.

#include <string>

#include "absl/status/status.h"

namespace tacit::coordinator {

// `status` (not OK) tagged with `reason`, e.g. "bad_session", "late".
absl::Status Refusal(const std::string& reason, absl::Status status);

// The reason a Refusal carries; the status code's name for any other error.
std::string RefusalReason(const absl::Status& status);

}  // namespace tacit::coordinator
