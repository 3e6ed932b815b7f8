#include "client/runtime/privacy_ledger.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_context.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"
#include "privacy/rdp_accountant.h"
#include "task/ddg_task.h"

namespace tacit::runtime {
namespace {

using nlohmann::json;

std::string LedgerPath(const std::string& dir) {
  return absl::StrCat(dir, "/", kPrivacyLedgerFile);
}

// Strict reads: a field that is missing or of the wrong type makes the line
// damaged (the first problem is kept), never a default.
class Fields {
 public:
  explicit Fields(const json& line) : line_(line) {}
  std::string String(const char* key) {
    if (Check(key, line_.contains(key) && line_[key].is_string(), "a string")) {
      return line_[key].get<std::string>();
    }
    return "";
  }
  int64_t Int(const char* key) {
    if (Check(key, line_.contains(key) && line_[key].is_number_integer(), "an integer")) {
      return line_[key].get<int64_t>();
    }
    return 0;
  }
  bool Bool(const char* key) {
    if (Check(key, line_.contains(key) && line_[key].is_boolean(), "true or false")) {
      return line_[key].get<bool>();
    }
    return false;
  }
  // A finite number in [low, high].
  double Number(const char* key, double low, double high) {
    const bool ok = line_.contains(key) && line_[key].is_number() &&
                    std::isfinite(line_[key].get<double>()) && line_[key].get<double>() >= low &&
                    line_[key].get<double>() <= high;
    if (Check(key, ok, absl::StrCat("a number from ", low, " to ", high))) {
      return line_[key].get<double>();
    }
    return 0;
  }
  const std::string& problem() const { return problem_; }

 private:
  bool Check(const char* key, bool ok, const std::string& expected) {
    if (!ok && problem_.empty()) problem_ = absl::StrCat("'", key, "' must be ", expected);
    return ok;
  }
  const json& line_;
  std::string problem_;
};

// The largest noise multiplier a task allows (task_config.cc): beyond it a
// line was not written by this client.
constexpr double kMaxNoiseMultiplier = 100;

std::string ReadCoin(const json& line, CoinRecord* coin) {
  Fields f(line);
  coin->task = f.String("task");
  coin->window = f.Int("window");
  coin->window_seconds = f.Number("window_seconds", 1, 366 * 24 * 3600.0);
  coin->probability = f.Number("probability", 0, 1);
  coin->offered = f.Bool("offered");
  coin->noise_multiplier = f.Number("noise_multiplier", 0, kMaxNoiseMultiplier);
  // Coins written before the discrete Gaussian carry no mechanism: they
  // were all continuous.
  coin->mechanism = line.contains("mechanism") ? f.String("mechanism") : kGaussianSumMechanism;
  coin->time = f.String("time");
  if (!f.problem().empty()) return f.problem();
  if (coin->mechanism != kGaussianSumMechanism && coin->mechanism != kDiscreteGaussianMechanism) {
    return absl::StrCat("unknown mechanism '", coin->mechanism, "'");
  }
  return "";
}

std::string ReadParticipation(const json& line, ParticipationRecord* r) {
  Fields f(line);
  r->task = f.String("task");
  r->round = f.Int("round");
  r->round_id = static_cast<uint64_t>(f.Int("round_id"));
  r->model_version = f.Int("model_version");
  r->window = f.Int("window");
  r->mechanism = f.String("mechanism");
  r->noise_multiplier = f.Number("noise_multiplier", 0, kMaxNoiseMultiplier);
  r->noise_stddev = f.Number("noise_stddev", 0, std::numeric_limits<double>::max());
  r->clip_norm = f.Number("clip_norm", 0, std::numeric_limits<double>::max());
  r->min_survivors = static_cast<int>(f.Int("min_survivors"));
  r->sampling = f.String("sampling");
  r->q = f.Number("q", 0, 1);
  r->time = f.String("time");
  if (!f.problem().empty()) return f.problem();
  if (r->mechanism == kDiscreteGaussianMechanism && line.contains("ddg")) {
    // What the laptop planned, for the owner to inspect; the accounting
    // needs z only (the plan is at least as private as the Gaussian at z).
    if (!line["ddg"].is_object()) return "'ddg' must be an object";
    Fields d(line["ddg"]);
    DdgRecord ddg;
    ddg.gamma = d.Number("gamma", 0, std::numeric_limits<double>::max());
    ddg.local_variance = d.Number("local_variance", 0, std::numeric_limits<double>::max());
    ddg.dim = d.Int("dim");
    ddg.bits = static_cast<int>(d.Int("bits"));
    if (!d.problem().empty()) return absl::StrCat("ddg: ", d.problem());
    r->ddg = ddg;
  } else if (r->mechanism != kGaussianSumMechanism && r->mechanism != kDiscreteGaussianMechanism) {
    return absl::StrCat("unknown mechanism '", r->mechanism, "'");
  }
  if (r->sampling != DpSamplingName(DpSampling::kNone) &&
      r->sampling != DpSamplingName(DpSampling::kRandomCheckIn)) {
    return absl::StrCat("unknown sampling '", r->sampling, "'");
  }
  return "";
}

// One release per entry: (q, z, discrete) -> count. A discrete release is
// at least as private as the Gaussian at z at every RDP order, and is
// accounted with the general subsampling bound.
using Release = std::tuple<double, double, bool>;
using Releases = std::map<Release, int64_t>;

absl::StatusOr<double> EpsilonOf(const Releases& releases, double delta) {
  privacy::RdpAccountant accountant;
  for (const auto& [release, count] : releases) {
    const auto& [q, z, discrete] = release;
    TACIT_RETURN_IF_ERROR(discrete ? accountant.ComposeGaussianDominated(q, z, count)
                                   : accountant.ComposeSampledGaussian(q, z, count));
  }
  TACIT_ASSIGN_OR_RETURN(privacy::PrivacySpent spent, accountant.Spent(delta));
  return spent.epsilon;
}

}  // namespace

const char* LedgerMechanismOf(const TaskConfig& task) {
  // A task without noise releases its updates unprotected whatever its
  // mechanism says (epsilon infinite); it is recorded as before.
  return UsesDiscreteGaussian(task) ? kDiscreteGaussianMechanism : kGaussianSumMechanism;
}

ParticipationRecord ParticipationOf(const TaskConfig& task, int64_t round, uint64_t round_id,
                                    int64_t model_version, double noise_stddev, int64_t window,
                                    const std::optional<DdgRecord>& ddg) {
  ParticipationRecord r;
  r.mechanism = LedgerMechanismOf(task);
  r.ddg = ddg;
  r.task = task.name;
  r.round = round;
  r.round_id = round_id;
  r.model_version = model_version;
  r.window = window;
  r.noise_multiplier = task.dp.noise_multiplier;
  r.noise_stddev = noise_stddev;
  r.clip_norm = task.dp.clip_norm;
  r.min_survivors = task.cohort.min_survivors;
  r.sampling = DpSamplingName(task.dp.sampling);
  r.q = task.dp.AccountedSamplingRate();
  return r;
}

absl::Status AppendCoin(const std::string& dir, const CoinRecord& c) {
  json line = {{"kind", "coin"},
               {"task", c.task},
               {"window", c.window},
               {"window_seconds", c.window_seconds},
               {"probability", c.probability},
               {"offered", c.offered},
               {"noise_multiplier", c.noise_multiplier},
               {"mechanism", c.mechanism},
               {"time", c.time.empty() ? cli::FormatTime(cli::NowMs()) : c.time}};
  return AppendLineDurably(LedgerPath(dir), line.dump(), 0600);
}

absl::Status AppendParticipation(const std::string& dir, const ParticipationRecord& r) {
  json line = {{"kind", "participation"},
               {"task", r.task},
               {"round", r.round},
               {"round_id", r.round_id},
               {"model_version", r.model_version},
               {"window", r.window},
               {"mechanism", r.mechanism},
               {"noise_multiplier", r.noise_multiplier},
               {"noise_stddev", r.noise_stddev},
               {"clip_norm", r.clip_norm},
               {"min_survivors", r.min_survivors},
               {"sampling", r.sampling},
               {"q", r.q},
               {"time", r.time.empty() ? cli::FormatTime(cli::NowMs()) : r.time}};
  if (r.ddg) {
    line["ddg"] = {{"gamma", r.ddg->gamma},
                   {"local_variance", r.ddg->local_variance},
                   {"dim", r.ddg->dim},
                   {"bits", r.ddg->bits}};
  }
  return AppendLineDurably(LedgerPath(dir), line.dump(), 0600);
}

absl::StatusOr<Ledger> ReadLedger(const std::string& dir) {
  Ledger ledger;
  const std::string path = LedgerPath(dir);
  if (!std::filesystem::exists(path)) return ledger;
  std::ifstream in(path);
  if (!in) {
    return absl::InternalError(
        absl::StrCat("cannot read the privacy ledger ", path,
                     "; the epsilon this laptop spent is unknown, so it takes part in no round"));
  }
  std::string text;
  for (int64_t number = 1; std::getline(in, text); ++number) {
    if (text.empty()) continue;
    absl::StatusOr<json> parsed = ParseJson(text, "privacy ledger line");
    std::string problem;
    if (!parsed.ok() || !parsed->is_object()) {
      problem = "not a JSON object (torn or edited)";
    } else if (StringOr(*parsed, "kind", "") == "coin") {
      CoinRecord coin;
      problem = ReadCoin(*parsed, &coin);
      if (problem.empty()) ledger.coins.push_back(std::move(coin));
    } else if (StringOr(*parsed, "kind", "") == "participation") {
      ParticipationRecord record;
      problem = ReadParticipation(*parsed, &record);
      if (problem.empty()) ledger.participations.push_back(std::move(record));
    } else {
      problem = "no known 'kind' (coin or participation)";
    }
    if (!problem.empty()) ledger.damaged.push_back(absl::StrCat("line ", number, ": ", problem));
  }
  return ledger;
}

absl::StatusOr<TaskSpending> SpentOnTask(const Ledger& ledger, const std::string& task_name,
                                         double delta, std::optional<NextRelease> next) {
  TaskSpending spending;
  Releases released, vs_coordinator;
  // Random check-in windows: one subsampled release each, at the coin's
  // probability and the smallest noise of anything recorded in that window,
  // discrete (the general bound) if anything in it was.
  std::map<int64_t, Release> windows;  // window -> (q, z, discrete)
  auto widen = [&windows](int64_t window, double q, double z, bool discrete) {
    auto [it, inserted] = windows.emplace(window, Release{q, z, discrete});
    if (!inserted) {
      auto& [wq, wz, wdiscrete] = it->second;
      wq = std::max(wq, q);
      wz = std::min(wz, z);
      wdiscrete = wdiscrete || discrete;
    }
  };
  auto is_discrete = [](const std::string& mechanism) {
    return mechanism == kDiscreteGaussianMechanism;
  };
  for (const CoinRecord& coin : ledger.coins) {
    if (coin.task == task_name) {
      widen(coin.window, coin.probability, coin.noise_multiplier, is_discrete(coin.mechanism));
    }
  }
  auto participate = [&](const std::string& sampling, int64_t window, double q, double z,
                         bool discrete) {
    ++spending.participations;
    ++vs_coordinator[{1.0, z, discrete}];
    const bool sampled = sampling == DpSamplingName(DpSampling::kRandomCheckIn) && window >= 0 &&
                         windows.count(window) > 0;
    if (sampled) {
      widen(window, q, z, discrete);
    } else {
      ++released[{1.0, z, discrete}];  // no coin behind it: no amplification
    }
  };
  for (const ParticipationRecord& r : ledger.participations) {
    if (r.task == task_name) {
      participate(r.sampling, r.window, r.q, r.noise_multiplier, is_discrete(r.mechanism));
    }
  }
  if (next && next->task != nullptr) {
    const DpConfig& dp = next->task->dp;
    const bool random = dp.sampling == DpSampling::kRandomCheckIn;
    const bool discrete = is_discrete(LedgerMechanismOf(*next->task));
    // The window's coin, unless it is in the ledger already (widen merges).
    if (random) widen(next->window, dp.check_in_probability, dp.noise_multiplier, discrete);
    participate(DpSamplingName(dp.sampling), random ? next->window : -1, dp.AccountedSamplingRate(),
                dp.noise_multiplier, discrete);
  }
  spending.windows = static_cast<int64_t>(windows.size());
  for (const auto& [window, release] : windows) ++released[release];
  spending.releases = released;
  if (spending.participations == 0 && spending.windows == 0) return spending;
  TACIT_ASSIGN_OR_RETURN(spending.released, EpsilonOf(released, delta));
  TACIT_ASSIGN_OR_RETURN(spending.vs_coordinator, EpsilonOf(vs_coordinator, delta));
  return spending;
}

std::vector<std::string> LedgerTasks(const Ledger& ledger) {
  std::vector<std::string> tasks;
  auto add = [&tasks](const std::string& task) {
    if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) tasks.push_back(task);
  };
  for (const CoinRecord& c : ledger.coins) add(c.task);
  for (const ParticipationRecord& r : ledger.participations) add(r.task);
  return tasks;
}

}  // namespace tacit::runtime
