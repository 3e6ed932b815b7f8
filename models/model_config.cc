#include "models/model_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tacit {
namespace {

absl::Status CheckRange(const char* field, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    return absl::InvalidArgumentError(absl::StrCat("model config field '", field, "' is ", value,
                                                   "; it must be in [", low, ", ", high, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& ModelNames() {
  static const auto* names = new std::vector<std::string>{"gru", "transformer"};
  return *names;
}

absl::Status ModelConfig::Validate() const {
  const auto& names = ModelNames();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown model '", name, "'; registered: ", absl::StrJoin(names, ", ")));
  }
  // The hashed vocabulary reserves token 0 for padding, so at least 2 tokens.
  if (vocab_size < 2 || vocab_size > (1u << 24)) {
    return absl::InvalidArgumentError(absl::StrCat("model config field 'vocab_size' is ",
                                                   vocab_size, "; it must be in [2, 16777216]"));
  }
  if (auto s = CheckRange("embedding_dim", embedding_dim, 1, 4096); !s.ok()) return s;
  if (auto s = CheckRange("hidden_dim", hidden_dim, 1, 16384); !s.ok()) return s;
  if (auto s = CheckRange("layers", layers, 1, 16); !s.ok()) return s;
  if (auto s = CheckRange("window", window, 1, 4096); !s.ok()) return s;
  if (name == "transformer") {
    if (auto s = CheckRange("heads", heads, 1, 64); !s.ok()) return s;
    if (embedding_dim % heads != 0) {
      return absl::InvalidArgumentError(absl::StrCat("transformer embedding_dim ", embedding_dim,
                                                     " must be divisible by heads ", heads,
                                                     "; change either"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> ModelConfig::FromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError("model config must be a JSON object");
  }
  static const char* kKnown[] = {"name",   "vocab_size", "embedding_dim", "hidden_dim",
                                 "layers", "heads",      "window"};
  for (const auto& item : json.items()) {
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return item.key() == k; }) == std::end(kKnown)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown model config field '", item.key(),
                                                     "'; known: ", absl::StrJoin(kKnown, ", ")));
    }
  }
  ModelConfig c;
  try {
    if (json.contains("name")) c.name = json.at("name").get<std::string>();
    auto read_int = [&](const char* key, auto& out) {
      if (!json.contains(key)) return;
      const auto& v = json.at(key);
      if (!v.is_number_integer()) throw nlohmann::json::type_error::create(302, key, &v);
      out = v.get<std::decay_t<decltype(out)>>();
    };
    int64_t vocab = c.vocab_size;
    read_int("vocab_size", vocab);
    if (vocab < 0 || vocab > (int64_t{1} << 32) - 1) vocab = 0;  // refused by Validate
    c.vocab_size = static_cast<uint32_t>(vocab);
    read_int("embedding_dim", c.embedding_dim);
    read_int("hidden_dim", c.hidden_dim);
    read_int("layers", c.layers);
    read_int("heads", c.heads);
    read_int("window", c.window);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model config has a field of the wrong type (name is a string, the rest integers): ",
        e.what()));
  }
  if (auto s = c.Validate(); !s.ok()) return s;
  return c;
}

nlohmann::json ModelConfig::ToJson() const {
  return nlohmann::json{{"name", name},
                        {"vocab_size", vocab_size},
                        {"embedding_dim", embedding_dim},
                        {"hidden_dim", hidden_dim},
                        {"layers", layers},
                        {"heads", heads},
                        {"window", window}};
}

bool ModelConfig::operator==(const ModelConfig& o) const {
  return name == o.name && vocab_size == o.vocab_size && embedding_dim == o.embedding_dim &&
         hidden_dim == o.hidden_dim && layers == o.layers && heads == o.heads && window == o.window;
}

ModelConfig DefaultGruConfig() { return ModelConfig{}; }

ModelConfig DefaultTransformerConfig() {
  ModelConfig c;
  c.name = "transformer";
  c.embedding_dim = 128;
  c.hidden_dim = 256;
  c.layers = 2;
  c.heads = 4;
  return c;
}

}  // namespace tacit
