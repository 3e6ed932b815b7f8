#pragma once

#include <random>
#include <string>

#include "models/model_config.h"

namespace tacit::testing {

// A small valid config with random sizes, of model `name`.
inline ModelConfig RandomConfig(std::mt19937_64& rng, const std::string& name) {
  ModelConfig c;
  c.name = name;
  c.vocab_size = 2 + static_cast<uint32_t>(rng() % 300);
  c.heads = 1 + static_cast<int>(rng() % 4);
  c.embedding_dim = c.heads * (1 + static_cast<int>(rng() % 8));
  c.hidden_dim = 1 + static_cast<int>(rng() % 40);
  c.layers = 1 + static_cast<int>(rng() % 3);
  c.window = 1 + static_cast<int>(rng() % 20);
  return c;
}

}  // namespace tacit::testing
