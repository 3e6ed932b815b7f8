#include "coordinator/server_optimizer.h"

#include <cmath>
#include <cstring>

#include "Eigen/Core"
#include "absl/strings/str_cat.h"

namespace tacit::coordinator {
namespace {

using Vec = Eigen::Map<Eigen::ArrayXf>;
using ConstVec = Eigen::Map<const Eigen::ArrayXf>;

// State layout: magic, optimizer type, dimension, steps, then the moment
// buffers the type uses, all little-endian (the only byte order we run on).
constexpr char kMagic[8] = {'T', 'S', 'O', 'P', 'T', '0', '0', '1'};

struct StateHeader {
  char magic[8];
  uint32_t type;
  uint32_t reserved;
  uint64_t dimension;
  int64_t steps;
};

size_t BufferCount(ServerOptimizerType type) {
  switch (type) {
    case ServerOptimizerType::kFedAvg:
      return 0;
    case ServerOptimizerType::kFedAvgM:
      return 1;
    case ServerOptimizerType::kFedAdam:
      return 2;
  }
  return 0;
}

}  // namespace

ServerOptimizer::ServerOptimizer(const ServerOptimizerConfig& config, size_t dimension)
    : config_(config), dimension_(dimension) {
  size_t buffers = BufferCount(config.type);
  if (buffers >= 1) first_moment_.assign(dimension, 0.0f);
  if (buffers >= 2) {
    second_moment_.assign(dimension, static_cast<float>(config.epsilon * config.epsilon));
  }
}

absl::StatusOr<ServerOptimizer> ServerOptimizer::Create(const ServerOptimizerConfig& config,
                                                        size_t dimension) {
  if (dimension == 0) {
    return absl::InvalidArgumentError("server optimizer needs a model with at least 1 parameter");
  }
  if (!(config.lr > 0) || !(config.epsilon > 0) || config.momentum < 0 || config.momentum >= 1 ||
      config.beta1 < 0 || config.beta1 >= 1 || config.beta2 < 0 || config.beta2 >= 1 ||
      !(config.lr_half_life_rounds >= 0)) {
    return absl::InvalidArgumentError(
        "server optimizer config out of range: need lr > 0, epsilon > 0, lr_half_life_rounds "
        ">= 0 and momentum, beta1, beta2 in [0, 1); parse it with ParseTaskConfig");
  }
  return ServerOptimizer(config, dimension);
}

absl::Status ServerOptimizer::Apply(absl::Span<const float> mean_update, absl::Span<float> model) {
  if (mean_update.size() != dimension_ || model.size() != dimension_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server optimizer: update has ", mean_update.size(), " and model ", model.size(),
        " parameters, expected ", dimension_, "; the model layout changed mid-task"));
  }
  ConstVec delta(mean_update.data(), static_cast<Eigen::Index>(dimension_));
  if (!delta.isFinite().all()) {
    return absl::InvalidArgumentError(
        "server optimizer: the mean update has NaN or infinite values; the round must be "
        "abandoned, not applied");
  }
  Vec x(model.data(), static_cast<Eigen::Index>(dimension_));
  const float lr = static_cast<float>(current_lr());
  switch (config_.type) {
    case ServerOptimizerType::kFedAvg:
      x += lr * delta;
      break;
    case ServerOptimizerType::kFedAvgM: {
      Vec m(first_moment_.data(), static_cast<Eigen::Index>(dimension_));
      m = static_cast<float>(config_.momentum) * m + delta;
      x += lr * m;
      break;
    }
    case ServerOptimizerType::kFedAdam: {
      const float b1 = static_cast<float>(config_.beta1);
      const float b2 = static_cast<float>(config_.beta2);
      const float tau = static_cast<float>(config_.epsilon);
      Vec m(first_moment_.data(), static_cast<Eigen::Index>(dimension_));
      Vec v(second_moment_.data(), static_cast<Eigen::Index>(dimension_));
      m = b1 * m + (1 - b1) * delta;
      v = b2 * v + (1 - b2) * delta.square();
      x += lr * m / (v.sqrt() + tau);
      break;
    }
  }
  ++steps_;
  return absl::OkStatus();
}

double ServerOptimizer::current_lr() const {
  if (config_.lr_half_life_rounds <= 0) return config_.lr;
  return config_.lr * std::exp2(-static_cast<double>(steps_) / config_.lr_half_life_rounds);
}

std::string ServerOptimizer::SerializeState() const {
  StateHeader header{};
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.type = static_cast<uint32_t>(config_.type);
  header.dimension = dimension_;
  header.steps = steps_;
  std::string out(reinterpret_cast<const char*>(&header), sizeof(header));
  for (const std::vector<float>* buffer : {&first_moment_, &second_moment_}) {
    out.append(reinterpret_cast<const char*>(buffer->data()), buffer->size() * sizeof(float));
  }
  return out;
}

absl::StatusOr<ServerOptimizer> ServerOptimizer::Restore(const ServerOptimizerConfig& config,
                                                         size_t dimension,
                                                         const std::string& state) {
  absl::StatusOr<ServerOptimizer> opt = Create(config, dimension);
  if (!opt.ok()) return opt.status();
  StateHeader header{};
  size_t buffers = BufferCount(config.type);
  if (state.size() < sizeof(header)) {
    return absl::DataLossError("server optimizer state is truncated (no header)");
  }
  std::memcpy(&header, state.data(), sizeof(header));
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError("server optimizer state has a wrong magic; not a tacit state");
  }
  if (header.type != static_cast<uint32_t>(config.type) || header.dimension != dimension) {
    return absl::FailedPreconditionError(absl::StrCat(
        "server optimizer state is for optimizer ",
        header.type <= 2 ? ServerOptimizerName(static_cast<ServerOptimizerType>(header.type))
                         : "unknown",
        " with ", header.dimension, " parameters but the task uses ",
        ServerOptimizerName(config.type), " with ", dimension,
        "; a task's optimizer cannot change mid-task"));
  }
  if (state.size() != sizeof(header) + buffers * dimension * sizeof(float)) {
    return absl::DataLossError(absl::StrCat("server optimizer state has ", state.size(),
                                            " bytes, expected ",
                                            sizeof(header) + buffers * dimension * sizeof(float)));
  }
  const char* p = state.data() + sizeof(header);
  for (std::vector<float>* buffer : {&opt->first_moment_, &opt->second_moment_}) {
    if (buffer->empty()) continue;  // FedAvg has no moments (memcpy from null is UB)
    std::memcpy(buffer->data(), p, buffer->size() * sizeof(float));
    p += buffer->size() * sizeof(float);
  }
  opt->steps_ = header.steps;
  return opt;
}

}  // namespace tacit::coordinator
