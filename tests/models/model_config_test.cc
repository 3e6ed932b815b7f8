#include "models/model_config.h"

#include <gtest/gtest.h>

namespace tacit {
namespace {

TEST(ModelConfigTest, JsonRoundTripKeepsEveryField) {
  for (const ModelConfig& c : {DefaultGruConfig(), DefaultTransformerConfig()}) {
    auto back = ModelConfig::FromJson(c.ToJson());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, c);
  }
}

TEST(ModelConfigTest, MissingFieldsTakeDefaults) {
  auto c = ModelConfig::FromJson(nlohmann::json{{"hidden_dim", 32}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "gru");
  EXPECT_EQ(c->hidden_dim, 32);
  EXPECT_EQ(c->vocab_size, 4096u);
}

TEST(ModelConfigTest, RefusesUnknownFieldsWrongTypesAndBadValues) {
  EXPECT_FALSE(ModelConfig::FromJson(nlohmann::json{{"hiden_dim", 32}}).ok());
  EXPECT_FALSE(ModelConfig::FromJson(nlohmann::json{{"hidden_dim", "32"}}).ok());
  EXPECT_FALSE(ModelConfig::FromJson(nlohmann::json{{"hidden_dim", 1.5}}).ok());
  EXPECT_FALSE(ModelConfig::FromJson(nlohmann::json{{"name", "lstm"}}).ok());
  EXPECT_FALSE(ModelConfig::FromJson(nlohmann::json{{"vocab_size", 1}}).ok());
  EXPECT_FALSE(ModelConfig::FromJson(nlohmann::json{{"vocab_size", -5}}).ok());
  EXPECT_FALSE(ModelConfig::FromJson(nlohmann::json{{"layers", 0}}).ok());
  EXPECT_FALSE(ModelConfig::FromJson(nlohmann::json::array()).ok());
  EXPECT_FALSE(ModelConfig::FromJson(
                   nlohmann::json{{"name", "transformer"}, {"embedding_dim", 130}, {"heads", 4}})
                   .ok());
}

}  // namespace
}  // namespace tacit
