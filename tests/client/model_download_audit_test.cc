// Every model chunk the laptop receives is counted in the audit log, also
// one a lying or broken coordinator sends out of place (the wrong offset,
// model version or digest): a fake coordinator on loopback answers
// DownloadModel with good chunks, then a bad one at a random point.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>

#include "client/runtime/audit_log.h"
#include "client/runtime/model_cache.h"
#include "tacit/v1/federation.grpc.pb.h"
#include "tests/client/temp_dir.h"
#include "tests/support/test_seed.h"

namespace tacit::runtime {
namespace {

enum class Lie { kOffset, kVersion, kDigest };

class LyingDownloads final : public v1::Federation::Service {
 public:
  LyingDownloads(int good_chunks, int chunk_bytes, Lie lie)
      : good_chunks_(good_chunks), chunk_bytes_(chunk_bytes), lie_(lie) {}

  grpc::Status DownloadModel(grpc::ServerContext*, const v1::DownloadModelRequest* request,
                             grpc::ServerWriter<v1::ModelChunk>* writer) override {
    const int64_t total = int64_t{chunk_bytes_} * (good_chunks_ + 4);
    int64_t offset = request->offset();
    for (int i = 0; i <= good_chunks_; ++i) {
      v1::ModelChunk chunk;
      chunk.set_model_version(request->model_version());
      chunk.set_offset(offset);
      chunk.set_total_bytes(total);
      chunk.set_sha256_hex(std::string(64, 'a'));
      chunk.set_data(std::string(static_cast<size_t>(chunk_bytes_), 'm'));
      if (i == good_chunks_) {  // the lie
        if (lie_ == Lie::kOffset) chunk.set_offset(offset + 1);
        if (lie_ == Lie::kVersion) chunk.set_model_version(request->model_version() + 1);
        if (lie_ == Lie::kDigest) chunk.set_sha256_hex(std::string(64, 'b'));
      }
      sent_ += static_cast<int64_t>(chunk.ByteSizeLong());
      if (!writer->Write(chunk)) break;
      offset += chunk_bytes_;
    }
    return grpc::Status::OK;
  }
  int64_t sent() const { return sent_.load(); }

 private:
  const int good_chunks_;
  const int chunk_bytes_;
  const Lie lie_;
  std::atomic<int64_t> sent_{0};
};

TEST(ModelDownloadAudit, ABadChunkIsCountedLikeEveryOther) {
  const auto seed = static_cast<uint32_t>(::tacit::testing::TestSeed());
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 4; ++trial) {
    const int good = static_cast<int>(rng() % 4);
    const int bytes = 1 + static_cast<int>(rng() % 5000);
    const Lie lie = static_cast<Lie>(rng() % 3);
    SCOPED_TRACE(::testing::Message()
                 << good << " good chunks of " << bytes << " bytes, lie " << static_cast<int>(lie));
    LyingDownloads service(good, bytes, lie);
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    ASSERT_NE(server, nullptr);
    auto stub = v1::Federation::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                            grpc::InsecureChannelCredentials()));
    testing::TempDir dir;
    v1::Assignment assignment;
    assignment.set_session("s");
    assignment.set_round_id(7);
    assignment.set_model_version(3);
    RpcBytes counted;
    absl::StatusOr<ModelFile> model = FetchModel(*stub, dir.path(), assignment, 0, &counted);
    EXPECT_FALSE(model.ok());
    EXPECT_EQ(counted.calls, 1);
    EXPECT_GT(counted.up, 0);
    EXPECT_EQ(counted.down, service.sent()) << model.status();
    server->Shutdown();
  }
}

}  // namespace
}  // namespace tacit::runtime
