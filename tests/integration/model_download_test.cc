// The fleet client's model download against the real coordinator: a
// download cut short (the per-assignment download budget of metered or mobile
// data, `tacit-client run --max-download-bytes`) keeps its bytes, the next
// download continues at that offset and fetches only the rest, and the
// assembled file is checked against the coordinator's SHA-256.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/runtime/model_cache.h"
#include "tests/integration/fleet_harness.h"

namespace tacit::testing {
namespace {

// Per-chunk framing around the model bytes (offsets, sizes, the SHA-256 in
// hex): far below this for the chunks of a few-MiB model.
constexpr int64_t kFramingAllowance = 4096;

int64_t FileSize(const std::string& path) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  return error ? -1 : static_cast<int64_t>(size);
}

TEST(ModelDownload, ABudgetedDownloadResumesAtItsOffsetAndFetchesOnlyTheRest) {
  Fleet fleet("download");
  // A model of a few MiB (GRU vocab 4096, embedding 64, hidden 128): many
  // 256 KiB chunks. The cohort never fills: the round stays in selection
  // while the test downloads from its seat.
  std::string task = fleet.WriteTask(
      {{"model", {{"hyperparameters", {{"embedding_dim", 64}, {"hidden_dim", 128}}}}},
       {"vocab", {{"size", 4096}}},
       {"cohort", {{"size", 8}, {"min_survivors", 8}}}});
  RunTool({ToolPath("tacit-coordinator"), "pki", "issue", "laptop", "--dir", fleet.pki()}, nullptr);
  auto coordinator = fleet.StartCoordinator(task, /*exit_when_done=*/false);
  ASSERT_TRUE(fleet.WaitServing(30));
  auto stub = fleet.DeviceStub("laptop");
  const v1::Assignment assignment = SeatIn(*stub, 1);
  ASSERT_FALSE(assignment.session().empty());
  const int64_t version = assignment.model_version();
  const std::string dir = fleet.ClientDir("laptop");
  const int64_t budget = 600 * 1024;

  // First check-in: stops at the first chunk boundary at or past the budget.
  runtime::RpcBytes received_1;
  auto first = runtime::FetchModel(*stub, dir, assignment, budget, &received_1);
  ASSERT_EQ(first.status().code(), absl::StatusCode::kResourceExhausted) << first.status();
  const int64_t held_1 = runtime::HeldDownloadBytes(dir, version);
  EXPECT_GE(held_1, budget);
  EXPECT_LT(held_1, budget + 256 * 1024);
  EXPECT_GE(received_1.down, held_1);
  EXPECT_LT(received_1.down, held_1 + kFramingAllowance);

  // Second: continues at held_1 and fetches about one budget more.
  runtime::RpcBytes received_2;
  auto second = runtime::FetchModel(*stub, dir, assignment, budget, &received_2);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted) << second.status();
  const int64_t held_2 = runtime::HeldDownloadBytes(dir, version);
  EXPECT_GE(held_2 - held_1, budget);
  EXPECT_GE(received_2.down, held_2 - held_1);
  EXPECT_LT(received_2.down, held_2 - held_1 + kFramingAllowance);

  // Third, without a budget: only the rest, then the SHA-256-checked model.
  runtime::RpcBytes received_3;
  auto model = runtime::FetchModel(*stub, dir, assignment, /*max_download_bytes=*/0, &received_3);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->model_version, version);
  EXPECT_EQ(model->layout_hash, assignment.layout_hash());
  EXPECT_EQ(runtime::HeldDownloadBytes(dir, version), 0);  // the partial is gone
  EXPECT_EQ(runtime::HeldModelOf(dir).version, version);
  const int64_t total = FileSize(dir + "/model/global.model");
  ASSERT_GT(total, held_2);
  EXPECT_GE(received_3.down, total - held_2);
  EXPECT_LT(received_3.down, total - held_2 + kFramingAllowance);
  EXPECT_LT(received_1.down + received_2.down + received_3.down, total + 3 * kFramingAllowance);

  // Held and current: nothing is fetched at all.
  runtime::RpcBytes received_again;
  ASSERT_TRUE(runtime::FetchModel(*stub, dir, assignment, budget, &received_again).ok());
  EXPECT_EQ(received_again.down, 0);

  // A held prefix that was corrupted on disk: the resumed file fails the
  // SHA-256 check, is discarded, and the next download starts over.
  const std::string other = fleet.ClientDir("laptop-2");
  runtime::RpcBytes ignored;
  ASSERT_EQ(runtime::FetchModel(*stub, other, assignment, budget, &ignored).status().code(),
            absl::StatusCode::kResourceExhausted);
  {
    std::fstream part(other + "/model/download.part",
                      std::ios::in | std::ios::out | std::ios::binary);
    part.seekg(1000);
    const char byte = static_cast<char>(part.get());
    part.seekp(1000);
    part.put(static_cast<char>(~byte));
  }
  auto corrupted = runtime::FetchModel(*stub, other, assignment, 0, &ignored);
  EXPECT_EQ(corrupted.status().code(), absl::StatusCode::kDataLoss) << corrupted.status();
  EXPECT_EQ(runtime::HeldDownloadBytes(other, version), 0);
  runtime::RpcBytes received_fresh;
  auto fresh = runtime::FetchModel(*stub, other, assignment, 0, &received_fresh);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_GE(received_fresh.down, total);
  EXPECT_LT(received_fresh.down, total + kFramingAllowance);
}

// The real daemon with `--max-download-bytes`: each check-in of the still
// selecting round fetches one budget more, continuing where the last one
// stopped, until the model is whole and the client trains and waits for the
// round to start. The cohort never fills, so the model version stays.
TEST(ModelDownload, TheDaemonSpreadsABudgetedDownloadOverCheckIns) {
  Fleet fleet("budget");
  std::string task = fleet.WriteTask(
      {{"model", {{"hyperparameters", {{"embedding_dim", 64}, {"hidden_dim", 128}}}}},
       {"vocab", {{"size", 4096}}},
       {"cohort", {{"size", 8}, {"min_survivors", 8}}}});
  fleet.AddDevice("metered", 0, 800);
  auto coordinator = fleet.StartCoordinator(task, /*exit_when_done=*/false);
  ASSERT_TRUE(fleet.WaitServing(30));
  const int64_t budget = 1 << 20;
  auto client = fleet.StartClient("metered", {"--max-download-bytes", std::to_string(budget)});
  ASSERT_TRUE(WaitUntil(90,
                        [&] {
                          return fleet.ClientProgress("metered").value("detail", "") ==
                                 "round 1: trained, waiting for advertise_keys";
                        }))
      << fleet.ClientProgress("metered").dump() << "\n"
      << ReadFile(fleet.LogPath("metered"));
  const std::string dir = fleet.ClientDir("metered");
  const int64_t total = FileSize(dir + "/model/global.model");
  ASSERT_GT(total, 2 * budget);

  // One audit line per paused download, each about one budget further on
  // (check-ins that brought no assignment have lines of their own).
  std::vector<nlohmann::json> lines;
  for (nlohmann::json& line : AuditLines(dir)) {
    if (line["kind"] == "round") lines.push_back(std::move(line));
  }
  ASSERT_EQ(static_cast<int64_t>(lines.size()), (total - 1) / budget)
      << ReadFile(fleet.LogPath("metered"));
  for (size_t i = 0; i < lines.size(); ++i) {
    const int64_t held = budget * static_cast<int64_t>(i + 1);  // 256 KiB chunks: exact
    EXPECT_NE(lines[i]["outcome"].get<std::string>().find(
                  absl::StrCat("model download paused at byte ", held, " of ", total)),
              std::string::npos)
        << lines[i].dump();
    const nlohmann::json& download = lines[i]["rpc"]["download_model"];
    EXPECT_GE(download["down"].get<int64_t>(), budget);
    EXPECT_LT(download["down"].get<int64_t>(), budget + kFramingAllowance);
    // Nothing but the check-in and the download request went up.
    EXPECT_TRUE(lines[i]["sent"].empty());
    EXPECT_EQ(lines[i]["bytes_up"].get<int64_t>(),
              lines[i]["rpc"]["check_in"]["up"].get<int64_t>() + download["up"].get<int64_t>());
  }
}

}  // namespace
}  // namespace tacit::testing
