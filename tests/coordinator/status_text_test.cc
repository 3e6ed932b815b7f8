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

}  // namespace
}  // namespace tacit::coordinator
