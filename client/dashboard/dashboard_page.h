#pragma once

// The local privacy page's one page, rendered on the server from the client's
// folder: what is kept (event kinds per day, from the store), what left (the
// audit summary, audit_summary.h), the privacy budget (the ledger, computed
// here), the owner's switches, and buttons for pause, resume and erase that
// POST with the session token. No external assets: one HTML document with
// its style and a few lines of script inline.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/runtime/audit_summary.h"

namespace tacit::dashboard {

struct KeptCount {
  std::string day;   // UTC day, as the store counts them
  std::string kind;  // event kind name
  int64_t count = 0;
};

struct BudgetRow {
  std::string task;
  int64_t participations = 0;
  std::string epsilon;      // formatted; "infinite" when a round had no noise
  std::string budget_left;  // formatted; "" when the owner set no budget
};

struct PageFacts {
  bool collection_paused = false;
  bool training_paused = false;
  std::string control_problem;  // a damaged control file (then paused)
  int64_t events = 0;
  std::vector<KeptCount> kept;
  std::string store_problem;  // the store could not be read
  std::vector<runtime::AuditDay> left;
  std::vector<BudgetRow> budget;
  std::string budget_setting;  // "max_epsilon 8 per task at delta 1e-06" or "none set"
  std::string ledger_damaged;  // DamagedLedgerReason
};

absl::StatusOr<PageFacts> GatherPage(const std::string& dir);

// The page; `token` goes into the script's requests (the page itself was
// fetched with it, so it adds nothing the reader did not have).
std::string RenderPage(const PageFacts& facts, const std::string& token);

}  // namespace tacit::dashboard
