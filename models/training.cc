#include "models/training.h"

#include <torch/nn.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/token_stream.h"
#include "models/internal/network.h"
#include "models/internal/scratch.h"
#include "models/parameter_layout.h"

namespace tacit {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(internal::NextEventNetwork& network,
                                                       const TrainOptions& options) {
  if (options.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(network.parameters(),
                                               torch::optim::SGDOptions(options.lr));
  }
  return std::make_unique<torch::optim::Adam>(network.parameters(),
                                              torch::optim::AdamOptions(options.lr));
}

// Fisher-Yates with mt19937_64, whose output the standard fixes exactly, so
// the order is the same on every platform (std::shuffle's is not).
void Shuffle(std::vector<int64_t>& order, std::mt19937_64& rng) {
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
}

}  // namespace

absl::Status TrainOptions::Validate() const {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("train options: ", what));
  };
  if (epochs < 1) return bad(absl::StrCat("epochs is ", epochs, "; it must be at least 1"));
  if (max_steps < 0) return bad("max_steps must be >= 0 (0 = no limit)");
  if (batch_size < 1) return bad("batch_size must be at least 1");
  if (!(lr > 0.0)) return bad(absl::StrCat("lr is ", lr, "; it must be positive"));
  if (optimizer != "adam" && optimizer != "sgd") {
    return bad(absl::StrCat("optimizer '", optimizer, "' is unknown; use adam or sgd"));
  }
  if (fedprox_mu < 0.0) return bad("fedprox_mu must be >= 0 (0 = off)");
  if (wall_clock_budget_s < 0.0) return bad("wall_clock_budget_s must be >= 0 (0 = none)");
  if (threads < 1) return bad("threads must be at least 1");
  if (stride < 0) return bad("stride must be >= 0 (0 = the model window)");
  return absl::OkStatus();
}

absl::StatusOr<LocalUpdate> TrainOnStreams(const ModelConfig& config,
                                           const std::vector<float>& global,
                                           const std::vector<std::vector<int32_t>>& streams,
                                           const TrainOptions& options) {
  const auto start = Clock::now();
  // The step's scratch buffers live as long as this call (scratch.h).
  struct ReleaseScratchOnExit {
    ~ReleaseScratchOnExit() { internal::ReleaseScratch(); }
  } release_scratch;
  TACIT_RETURN_IF_ERROR(options.Validate());
  TACIT_ASSIGN_OR_RETURN(ParameterLayout layout, LayoutOf(config));
  if (static_cast<int64_t>(global.size()) != layout.total_size) {
    return absl::InvalidArgumentError(absl::StrCat("global parameters have ", global.size(),
                                                   " values; the ", config.name, " layout ",
                                                   layout.hash, " needs ", layout.total_size));
  }
  const int window = config.window;
  const int stride = options.stride > 0 ? options.stride : window;
  if (stride > window) {
    // Windows further apart than they are long would never train on the tokens between.
    return absl::InvalidArgumentError(absl::StrCat("training window stride ", stride,
                                                   " exceeds the model window ", window,
                                                   "; use a stride of at most the window"));
  }
  std::vector<int32_t> windows;
  for (const auto& stream : streams) {
    for (int32_t token : stream) {
      if (token < 0 || static_cast<uint32_t>(token) >= config.vocab_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "token ", token, " is outside the vocabulary [0, ", config.vocab_size, ")"));
      }
    }
    std::vector<int32_t> w = MakeWindows(stream, window, stride);
    windows.insert(windows.end(), w.begin(), w.end());
  }
  const int64_t span = window + 1;
  const int64_t count = static_cast<int64_t>(windows.size()) / span;
  if (count == 0) {
    return absl::InvalidArgumentError("no training windows: every stream has fewer than 2 tokens");
  }

  internal::UseThreadsInThisThread(options.threads);
  TACIT_ASSIGN_OR_RETURN(auto network, internal::BuildNetwork(config));
  TACIT_RETURN_IF_ERROR(internal::LoadFlat(*network, global));
  network->train();
  auto all = torch::from_blob(windows.data(), {count, span}, torch::kInt).to(torch::kLong);

  LocalUpdate update;
  // Distinct predicted tokens (windows may overlap at a stream's end).
  for (const auto& stream : streams) {
    update.examples += std::max<int64_t>(0, static_cast<int64_t>(stream.size()) - 1);
  }
  std::vector<torch::Tensor> anchor;  // the global weights, for FedProx
  if (options.fedprox_mu > 0.0) {
    for (const auto& p : network->parameters()) anchor.push_back(p.detach().clone());
  }
  auto optimizer = MakeOptimizer(*network, options);
  std::mt19937_64 rng(options.seed);
  std::vector<int64_t> order(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) order[static_cast<size_t>(i)] = i;

  // One batch buffer for every step: the windows of a step are gathered into it.
  auto batch_buffer =
      torch::empty({std::min<int64_t>(options.batch_size, count), span}, torch::kLong);
  const auto params = network->parameters();
  bool stop = false;
  for (int epoch = 0; epoch < options.epochs && !stop; ++epoch) {
    Shuffle(order, rng);
    double loss_sum = 0.0;
    int batches = 0;
    for (int64_t first = 0; first < count && !stop; first += options.batch_size) {
      const int64_t n = std::min<int64_t>(options.batch_size, count - first);
      auto index = torch::from_blob(order.data() + first, {n}, torch::kLong);
      auto batch = batch_buffer.slice(0, 0, n);
      torch::index_select_out(batch, all, 0, index);
      auto inputs = batch.slice(1, 0, window);
      auto targets = batch.slice(1, 1, span);
      auto loss = network->Loss(network->Features(inputs), targets);
      // Gradients set to none rather than zeroed: backward then hands its
      // tensors over instead of adding them to zeros (what zero_grad does).
      for (const auto& p : params) p.mutable_grad().reset();
      loss.backward();
      if (options.fedprox_mu > 0.0) {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < params.size(); ++i) {
          params[i].mutable_grad().add_(params[i] - anchor[i], options.fedprox_mu);
        }
      }
      optimizer->step();
      loss_sum += loss.item<double>();
      ++batches;
      ++update.steps;
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      stop = (options.max_steps > 0 && update.steps >= options.max_steps) ||
             (options.wall_clock_budget_s > 0.0 && elapsed >= options.wall_clock_budget_s);
    }
    update.train_loss = loss_sum / std::max(batches, 1);
    if (options.on_epoch_end) {
      TACIT_RETURN_IF_ERROR(options.on_epoch_end(
          {epoch + 1, update.train_loss, update.steps, internal::Flatten(*network)}));
    }
  }

  update.delta = internal::Flatten(*network);
  for (size_t i = 0; i < update.delta.size(); ++i) update.delta[i] -= global[i];
  update.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return update;
}

absl::StatusOr<LocalUpdate> TrainLocally(const ModelConfig& config,
                                         const std::vector<float>& global,
                                         const std::vector<int32_t>& train_tokens,
                                         const TrainOptions& options) {
  return TrainOnStreams(config, global, {train_tokens}, options);
}

}  // namespace tacit
