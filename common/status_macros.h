#pragma once

// The project's one error convention: every library boundary returns
// absl::Status or absl::StatusOr<T>, and messages say what was wrong and what
// to do about it. These macros keep the propagation short.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TACIT_CONCAT_INNER(a, b) a##b
#define TACIT_CONCAT(a, b) TACIT_CONCAT_INNER(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
// The status variable is named per line so that a TACIT_RETURN_IF_ERROR in a
// lambda inside another one does not shadow the outer variable.
#define TACIT_RETURN_IF_ERROR(expr) \
  TACIT_RETURN_IF_ERROR_IMPL(TACIT_CONCAT(tacit_status_, __LINE__), expr)
#define TACIT_RETURN_IF_ERROR_IMPL(status, expr) \
  do {                                           \
    ::absl::Status status = (expr);              \
    if (!status.ok()) return status;             \
  } while (0)

// TACIT_ASSIGN_OR_RETURN(auto x, MakeX()); declares/assigns the value or
// returns the error status.
#define TACIT_ASSIGN_OR_RETURN(lhs, expr) \
  TACIT_ASSIGN_OR_RETURN_IMPL(TACIT_CONCAT(tacit_statusor_, __LINE__), lhs, expr)

#define TACIT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
