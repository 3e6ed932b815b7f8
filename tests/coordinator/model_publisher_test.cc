#include "coordinator/service/model_publisher.h"

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "coordinator/service/refusal.h"
#include "models/model_file.h"
#include "models/parameter_layout.h"
#include "task/task_model.h"

namespace tacit::coordinator {
namespace {

TEST(ModelPublisher, ServesTheCurrentVersionWithItsHashAndRefusesOthers) {
  auto task = ParseTaskConfig(
      {{"name", "publisher-test"},
       {"model",
        {{"name", "gru"},
         {"hyperparameters", {{"embedding_dim", 4}, {"hidden_dim", 4}, {"window", 4}}}}},
       {"vocab", {{"size", 16}, {"salt", "s"}}}});
  ASSERT_TRUE(task.ok()) << task.status();
  auto config = ResolveTaskModel(*task);
  ASSERT_TRUE(config.ok()) << config.status();
  auto layout = LayoutOf(*config);
  ASSERT_TRUE(layout.ok());
  ModelPublisher publisher(*config, layout->hash);
  EXPECT_EQ(RefusalReason(publisher.Serve(0, 0).status()), "no_model");

  auto parameters = InitialParameters(*config, 3);
  ASSERT_TRUE(parameters.ok());
  ASSERT_TRUE(publisher.Publish(7, *parameters).ok());
  auto served = publisher.Serve(7, 0);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->version, 7);
  EXPECT_EQ(served->sha256_hex, *::tacit::Sha256Hex(*served->bytes));
  auto decoded = DecodeModelFile(*served->bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->model_version, 7);
  EXPECT_EQ(decoded->parameters, *parameters);
  EXPECT_EQ(decoded->layout_hash, layout->hash);

  const int64_t size = static_cast<int64_t>(served->bytes->size());
  EXPECT_TRUE(publisher.Serve(7, size).ok());  // resuming at the end: nothing left
  EXPECT_EQ(RefusalReason(publisher.Serve(7, size + 1).status()), "bad_offset");
  EXPECT_EQ(RefusalReason(publisher.Serve(7, -1).status()), "bad_offset");
  EXPECT_EQ(RefusalReason(publisher.Serve(6, 0).status()), "stale_download");

  // A wrong parameter count is refused and version 7 stays served.
  EXPECT_FALSE(publisher.Publish(8, std::vector<float>(3, 0.f)).ok());
  EXPECT_EQ(publisher.current().version, 7);
  EXPECT_TRUE(publisher.Serve(7, 0).ok());
}

}  // namespace
}  // namespace tacit::coordinator
