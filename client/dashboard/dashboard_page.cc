#include "client/dashboard/dashboard_page.h"

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/cli_context.h"
#include "client/control_state.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/privacy_budget.h"
#include "client/runtime/privacy_ledger.h"
#include "client/store/event_store.h"
#include "common/event.h"
#include "common/markup_escape.h"
#include "common/status_macros.h"

namespace tacit::dashboard {
namespace {

std::string Epsilon(double epsilon) {
  return std::isfinite(epsilon) ? absl::StrFormat("%.3f", epsilon) : std::string("infinite");
}

void GatherKept(const std::string& dir, PageFacts* facts) {
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::OpenInDirectory(dir);
  absl::StatusOr<StoreSummary> summary =
      store.ok() ? (*store)->Summary() : absl::StatusOr<StoreSummary>(store.status());
  if (!summary.ok()) {
    facts->store_problem = std::string(summary.status().message());
    return;
  }
  facts->events = summary->events;
  for (const KindDayCount& c : summary->counts) {
    facts->kept.push_back({c.day, std::string(EventKindName(c.kind)), c.count});
  }
}

absl::Status GatherBudget(const std::string& dir, const runtime::ParticipationPolicy& policy,
                          PageFacts* facts) {
  TACIT_ASSIGN_OR_RETURN(runtime::Ledger ledger, runtime::ReadLedger(dir));
  facts->ledger_damaged = runtime::DamagedLedgerReason(ledger);
  facts->budget_setting =
      policy.max_epsilon
          ? absl::StrCat("max_epsilon ", *policy.max_epsilon, " per task at delta ", policy.delta)
          : absl::StrCat("none set (max_epsilon null), delta ", policy.delta);
  for (const std::string& task : runtime::LedgerTasks(ledger)) {
    absl::StatusOr<runtime::TaskSpending> s = runtime::SpentOnTask(ledger, task, policy.delta);
    BudgetRow row;
    row.task = task;
    if (!s.ok()) {
      row.epsilon = absl::StrCat("cannot compute: ", s.status().message());
    } else {
      row.participations = s->participations;
      row.epsilon = Epsilon(s->epsilon());
      if (policy.max_epsilon)
        row.budget_left = Epsilon(std::max(0.0, *policy.max_epsilon - s->epsilon()));
    }
    facts->budget.push_back(std::move(row));
  }
  return absl::OkStatus();
}

// A table from a header row and body rows of already escaped cells.
std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string html = "<table><tr>";
  for (const std::string& h : header) absl::StrAppend(&html, "<th>", h, "</th>");
  html += "</tr>";
  for (const auto& row : rows) {
    html += "<tr>";
    for (const std::string& cell : row) absl::StrAppend(&html, "<td>", cell, "</td>");
    html += "</tr>";
  }
  return html + "</table>";
}

std::string KeptSection(const PageFacts& f) {
  std::string html = "<section id=\"kept\"><h2>What is kept on this laptop</h2>";
  if (!f.store_problem.empty()) {
    return absl::StrCat(html, "<p>The store could not be read: ", EscapeMarkup(f.store_problem),
                        "</p></section>");
  }
  absl::StrAppend(&html, "<p>", f.events,
                  " events, encrypted, never sent. Per local day and kind:</p>");
  std::set<std::string> kinds;
  std::map<std::string, std::map<std::string, int64_t>> by_day;
  for (const KeptCount& c : f.kept) {
    kinds.insert(c.kind);
    by_day[c.day][c.kind] += c.count;
  }
  std::vector<std::string> header = {"day"};
  header.insert(header.end(), kinds.begin(), kinds.end());
  std::vector<std::vector<std::string>> rows;
  for (const auto& [day, counts] : by_day) {
    std::vector<std::string> row = {EscapeMarkup(day)};
    for (const std::string& kind : kinds) {
      auto it = counts.find(kind);
      row.push_back(it == counts.end() ? "" : absl::StrCat(it->second));
    }
    rows.push_back(std::move(row));
  }
  if (!rows.empty()) absl::StrAppend(&html, Table(header, rows));
  return html + "</section>";
}

std::string LeftSection(const PageFacts& f) {
  std::string html = absl::StrCat(
      "<section id=\"left\"><h2>What left this laptop</h2><p>From the audit log, which counts "
      "every call: ",
      EscapeMarkup(runtime::kWhatTheCallsCarry), ". Days in local time.</p>");
  if (f.left.empty()) return html + "<p>Nothing has left this laptop.</p></section>";
  std::vector<std::vector<std::string>> rows;
  for (const runtime::AuditDay& d : f.left) {
    std::string noise;
    for (double z : d.noise_multipliers) absl::StrAppend(&noise, noise.empty() ? "" : ", ", z);
    rows.push_back({EscapeMarkup(d.day), EscapeMarkup(d.task.empty() ? "(check-ins only)" : d.task),
                    absl::StrCat(d.joined), absl::StrCat(d.declined), absl::StrCat(d.failed),
                    absl::StrCat(d.check_ins), EscapeMarkup(cli::FormatBytes(d.bytes_up)),
                    EscapeMarkup(cli::FormatBytes(d.bytes_down)), noise.empty() ? "-" : noise,
                    d.epsilon < 0 ? "-" : Epsilon(d.epsilon)});
  }
  return absl::StrCat(html,
                      Table({"day", "task", "rounds joined", "declined", "failed", "check-ins",
                             "sent", "received", "noise z", "epsilon by day's end"},
                            rows),
                      "</section>");
}

std::string BudgetSection(const PageFacts& f) {
  std::string html = absl::StrCat(
      "<section id=\"budget\"><h2>Privacy budget</h2><p>Budget: ", EscapeMarkup(f.budget_setting),
      ". Epsilon is computed on this laptop from its own ledger.</p>");
  if (!f.ledger_damaged.empty()) {
    absl::StrAppend(&html, "<p><strong>Not taking part: ", EscapeMarkup(f.ledger_damaged),
                    "</strong></p>");
  }
  if (f.budget.empty()) return html + "<p>No round taken part in yet.</p></section>";
  std::vector<std::vector<std::string>> rows;
  for (const BudgetRow& b : f.budget) {
    rows.push_back({EscapeMarkup(b.task), absl::StrCat(b.participations), EscapeMarkup(b.epsilon),
                    b.budget_left.empty() ? "-" : EscapeMarkup(b.budget_left)});
  }
  return absl::StrCat(html, Table({"task", "rounds", "epsilon spent", "budget left"}, rows),
                      "</section>");
}

}  // namespace

absl::StatusOr<PageFacts> GatherPage(const std::string& dir) {
  PageFacts facts;
  absl::StatusOr<ControlState> control = LoadControlState(dir);
  if (control.ok()) {
    facts.collection_paused = control->collection_paused;
    facts.training_paused = control->training_paused;
  } else {
    facts.control_problem = std::string(control.status().message());
  }
  GatherKept(dir, &facts);
  TACIT_ASSIGN_OR_RETURN(runtime::ParticipationPolicy policy,
                         runtime::LoadParticipationPolicy(dir));
  TACIT_ASSIGN_OR_RETURN(facts.left, runtime::SummarizeAudit(dir, policy.delta));
  TACIT_RETURN_IF_ERROR(GatherBudget(dir, policy, &facts));
  return facts;
}

std::string RenderPage(const PageFacts& f, const std::string& token) {
  const std::string switches =
      f.control_problem.empty()
          ? absl::StrCat("Collection is <strong id=\"collection\">",
                         f.collection_paused ? "paused" : "on",
                         "</strong>; training is <strong id=\"training\">",
                         f.training_paused ? "paused" : "on", "</strong>.")
          : absl::StrCat("Everything is stopped: ", EscapeMarkup(f.control_problem));
  // The token is 64 hex characters (dashboard_token.h): nothing to escape.
  return absl::StrCat(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"referrer\" content=\"no-referrer\">"
      "<title>tacit: your privacy on this laptop</title><style>"
      "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
      "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.2em .5em;"
      "text-align:right}th{background:#eee}td:first-child,td:nth-child(2){text-align:left}"
      "button{font-size:1em;margin-right:.5em;padding:.3em 1em}#result{color:#064}"
      "</style></head><body><h1>Your activity and tacit</h1>"
      "<section id=\"switches\"><p>",
      switches,
      "</p><p><button id=\"pause\" onclick=\"act('pause')\">Pause</button>"
      "<button id=\"resume\" onclick=\"act('resume')\">Resume</button>"
      "<button id=\"erase\" onclick=\"act('erase')\">Erase all stored events</button></p>"
      "<p id=\"result\" role=\"status\"></p></section>",
      KeptSection(f), LeftSection(f), BudgetSection(f),
      "<p>Masked updates already sent remain in the fleet's global model; erasing cannot take "
      "them out. To leave the fleet: <code>tacit-client leave</code>.</p>"
      "<script>\n"
      "const token = '",
      token,
      "';\n"
      "async function act(action) {\n"
      "  if (action === 'erase' && !confirm('Erase every stored event on this laptop? This "
      "cannot be undone.')) return;\n"
      "  const reply = await fetch('/' + action, {method: 'POST', headers: {'X-Tacit-Token': "
      "token}});\n"
      "  document.getElementById('result').textContent = await reply.text();\n"
      "  if (reply.ok) setTimeout(() => location.reload(), 800);\n"
      "}\n"
      "</script></body></html>\n");
}

}  // namespace tacit::dashboard
