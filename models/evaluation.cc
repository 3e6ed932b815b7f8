#include "models/evaluation.h"

#include <torch/nn.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/hashed_vocab.h"
#include "common/status_macros.h"
#include "models/internal/network.h"

namespace tacit {
namespace {

// Windows evaluated per forward pass: bounds memory (logits are only
// computed for the scored positions).
constexpr int64_t kWindowsPerBatch = 64;

struct Totals {
  double loss = 0.0;
  int64_t top1 = 0, top3 = 0, predictions = 0;
};

// Scores one batch of windows: `inputs` [n, window] of context, `targets`
// [n, block] the tokens at the last `block` positions (0 = not scored).
void ScoreBatch(internal::NextEventNetwork& network, const std::vector<int64_t>& inputs,
                const std::vector<int64_t>& targets, int64_t window, int64_t block,
                Totals& totals) {
  const int64_t n = static_cast<int64_t>(targets.size()) / block;
  auto in = torch::from_blob(const_cast<int64_t*>(inputs.data()), {n, window}, torch::kLong);
  auto target = torch::from_blob(const_cast<int64_t*>(targets.data()), {n * block}, torch::kLong);
  auto features = network.Features(in).slice(1, window - block, window);
  auto logits = network.Head(features).reshape({n * block, -1});
  auto scored = target.ne(0);
  auto log_probs = torch::log_softmax(logits, -1);
  auto nll = -log_probs.gather(1, target.unsqueeze(1)).squeeze(1);
  auto top3 = std::get<1>(logits.topk(std::min<int64_t>(3, logits.size(1)), -1));
  auto hits = top3.eq(target.unsqueeze(1));
  totals.loss += nll.masked_select(scored).sum().item<double>();
  totals.top1 += hits.select(1, 0).logical_and(scored).sum().item<int64_t>();
  totals.top3 += hits.any(1).logical_and(scored).sum().item<int64_t>();
  totals.predictions += scored.sum().item<int64_t>();
}

EvalResult ToResult(const Totals& t) {
  EvalResult r;
  r.predictions = t.predictions;
  if (t.predictions > 0) {
    r.loss = t.loss / t.predictions;
    r.top1 = static_cast<double>(t.top1) / t.predictions;
    r.top3 = static_cast<double>(t.top3) / t.predictions;
  }
  return r;
}

}  // namespace

absl::StatusOr<EvalResult> Evaluate(const ModelConfig& config, const std::vector<float>& params,
                                    const PersonTokens& person) {
  TACIT_RETURN_IF_ERROR(config.Validate());
  std::vector<int32_t> stream = person.train;
  stream.insert(stream.end(), person.test.begin(), person.test.end());
  for (int32_t token : stream) {
    if (token < 0 || static_cast<uint32_t>(token) >= config.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("person ", person.person_id, ": token ", token,
                                                     " is outside the vocabulary"));
    }
  }
  internal::UseThreadsInThisThread(1);
  TACIT_ASSIGN_OR_RETURN(auto network, internal::BuildNetwork(config));
  TACIT_RETURN_IF_ERROR(internal::LoadFlat(*network, params));
  network->eval();
  torch::InferenceMode inference;

  const int64_t window = config.window;
  const int64_t block = std::max<int64_t>(1, window / 4);
  const int64_t first = static_cast<int64_t>(person.train.size());
  const int64_t end = static_cast<int64_t>(stream.size());
  Totals totals;
  std::vector<int64_t> inputs, targets;
  // Block [s, e) of test positions: the window holds tokens e-1-window .. e-2
  // (left-padded before the stream's start); its last `block` outputs predict
  // positions e-block .. e-1, of which those >= s are scored.
  for (int64_t s = first; s < end; s += block) {
    const int64_t e = std::min(s + block, end);
    for (int64_t i = e - 1 - window; i < e - 1; ++i) {
      inputs.push_back(i >= 0 ? stream[static_cast<size_t>(i)] : HashedVocabulary::kPadding);
    }
    for (int64_t p = e - block; p < e; ++p) {
      targets.push_back(p >= s ? stream[static_cast<size_t>(p)] : HashedVocabulary::kPadding);
    }
    if (static_cast<int64_t>(targets.size()) == kWindowsPerBatch * block || e == end) {
      ScoreBatch(*network, inputs, targets, window, block, totals);
      inputs.clear();
      targets.clear();
    }
  }
  return ToResult(totals);
}

PopulationEval CombineEvaluations(std::vector<EvalResult> per_person) {
  PopulationEval out;
  int persons = 0;
  for (const EvalResult& r : per_person) {
    out.pooled.loss += r.loss * r.predictions;
    out.pooled.top1 += r.top1 * r.predictions;
    out.pooled.top3 += r.top3 * r.predictions;
    out.pooled.predictions += r.predictions;
    if (r.predictions == 0) continue;
    ++persons;
    out.macro.loss += r.loss;
    out.macro.top1 += r.top1;
    out.macro.top3 += r.top3;
    out.macro.predictions += r.predictions;
  }
  if (out.pooled.predictions > 0) {
    const double n = static_cast<double>(out.pooled.predictions);
    out.pooled.loss /= n;
    out.pooled.top1 /= n;
    out.pooled.top3 /= n;
  }
  if (persons > 0) {
    out.macro.loss /= persons;
    out.macro.top1 /= persons;
    out.macro.top3 /= persons;
  }
  out.per_person = std::move(per_person);
  return out;
}

absl::StatusOr<PopulationEval> EvaluatePopulation(const ModelConfig& config,
                                                  const std::vector<float>& params,
                                                  const std::vector<PersonTokens>& persons) {
  std::vector<EvalResult> per_person;
  for (const PersonTokens& person : persons) {
    TACIT_ASSIGN_OR_RETURN(EvalResult r, Evaluate(config, params, person));
    per_person.push_back(r);
  }
  return CombineEvaluations(std::move(per_person));
}

absl::StatusOr<PopulationEval> EvaluatePersonalized(const ModelConfig& config,
                                                    const std::vector<float>& global,
                                                    const std::vector<PersonTokens>& persons,
                                                    const TrainOptions& finetune) {
  std::vector<EvalResult> per_person;
  for (const PersonTokens& person : persons) {
    std::vector<float> personal = global;
    if (person.train.size() >= 2) {
      TACIT_ASSIGN_OR_RETURN(LocalUpdate update,
                             TrainLocally(config, global, person.train, finetune));
      for (size_t i = 0; i < personal.size(); ++i) personal[i] += update.delta[i];
    }
    TACIT_ASSIGN_OR_RETURN(EvalResult r, Evaluate(config, personal, person));
    per_person.push_back(r);
  }
  return CombineEvaluations(std::move(per_person));
}

}  // namespace tacit
