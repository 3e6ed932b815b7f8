// `tacit-coordinator status` text: the last accuracy line shows the cohort's
// federated evaluation, or says there is none yet.

#include "coordinator/status_text.h"

#include <gtest/gtest.h>

namespace tacit::coordinator {
namespace {

TEST(StatusText, ShowsTheLastAccuracyOrNoneYet) {
  nlohmann::json status = {{"task", "t"},
                           {"rounds", 3},
                           {"model_version", 2},
                           {"round", 3},
                           {"attempt", 1},
                           {"phase", "share_keys"},
                           {"participants", 5},
                           {"dropped", 1},
                           {"epsilon", 0.5},
                           {"server_optimizer", "fedadam"},
                           {"server_lr", 0.015},
                           {"last_round", {{"survivors", 4}}},
                           {"last_evaluation", nullptr}};
  std::string before = FormatStatusText(status);
  EXPECT_NE(before.find("last accuracy: none yet"), std::string::npos) << before;
  EXPECT_NE(before.find("round:         3 attempt 1, phase share_keys"), std::string::npos)
      << before;
  EXPECT_NE(before.find("optimizer:     fedadam on the server, lr 0.015 for the next round\n"),
            std::string::npos)
      << before;
  // A status from an older coordinator has no optimizer fields: no line, not a made-up one.
  nlohmann::json older = status;
  older.erase("server_optimizer");
  older.erase("server_lr");
  EXPECT_EQ(FormatStatusText(older).find("optimizer:"), std::string::npos);
  status["last_evaluation"] = {{"model_version", 1}, {"clients", 4}, {"predictions", 812},
                               {"top1", 0.3125},     {"top3", 0.5},  {"loss", 2.25}};
  std::string after = FormatStatusText(status);
  EXPECT_NE(after.find("last accuracy: top-1 0.3125, top-3 0.5000, loss 2.250 nats (model "
                       "version 1, 4 clients, 812 predictions)"),
            std::string::npos)
      << after;
}

// Issue 19: `last round:` printed raw JSON.
TEST(StatusText, DescribesTheLastRoundInWords) {
  nlohmann::json status = {{"task", "t"}, {"rounds", 3}, {"last_round", nlohmann::json::object()}};
  EXPECT_NE(FormatStatusText(status).find("last round:    none yet\n"), std::string::npos);
  status["last_round"] = {
      {"round", 4},       {"outcome", "committed"},
      {"cohort_size", 5}, {"survivors", 4},
      {"seconds", 12.53}, {"dropouts", {{"advertise_keys", 1}, {"share_keys", 0}}},
      {"bytes_up", 100},  {"bytes_down", 200}};
  std::string committed = FormatStatusText(status);
  EXPECT_NE(committed.find("last round:    round 4 committed: 4 of 5 clients in the sum, 12.5 s, "
                           "dropouts: advertise_keys 1, 100 bytes up, 200 down\n"),
            std::string::npos)
      << committed;
  status["last_round"] = {
      {"round", 2}, {"attempt", 3}, {"outcome", "abandoned"}, {"reason", "only 2 of 3 survived"}};
  std::string abandoned = FormatStatusText(status);
  EXPECT_NE(abandoned.find("last round:    round 2 (attempt 3) abandoned: only 2 of 3 survived\n"),
            std::string::npos)
      << abandoned;
  EXPECT_EQ(abandoned.find('{'), std::string::npos) << abandoned;
}

}  // namespace
}  // namespace tacit::coordinator
