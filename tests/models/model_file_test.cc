#include "models/model_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "common/file_io.h"
#include "models/parameter_layout.h"

namespace tacit {
namespace {

ModelConfig SmallConfig() {
  ModelConfig c;
  c.vocab_size = 50;
  c.embedding_dim = 8;
  c.hidden_dim = 12;
  return c;
}

ModelFile SmallModel() {
  ModelFile m;
  m.model_version = 17;
  m.config = SmallConfig();
  m.parameters = *InitialParameters(m.config, 9);
  return m;
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/tacit_models_test_" + name;
}

TEST(ModelFileTest, SaveLoadRoundTripIsExact) {
  const std::string path = TempPath("roundtrip.tmodel");
  ModelFile m = SmallModel();
  ASSERT_TRUE(SaveModelFile(path, m).ok());
  auto back = LoadModelFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model_version, 17);
  EXPECT_EQ(back->config, m.config);
  EXPECT_EQ(back->layout_hash, LayoutOf(m.config)->hash);
  EXPECT_EQ(back->parameters, m.parameters);
  EXPECT_TRUE(LoadModelFile(path, back->layout_hash).ok());
  auto mismatched = LoadModelFile(path, "0123456789abcdef");
  EXPECT_EQ(mismatched.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ModelFileTest, RefusesToSaveParametersThatDoNotFitTheConfig) {
  ModelFile m = SmallModel();
  m.parameters.pop_back();
  EXPECT_FALSE(EncodeModelFile(m).ok());
  m = SmallModel();
  m.layout_hash = "ffffffffffffffff";
  EXPECT_FALSE(EncodeModelFile(m).ok());
}

TEST(ModelFileTest, AnySingleCorruptedByteIsRejected) {
  const std::string good = *EncodeModelFile(SmallModel());
  std::mt19937_64 rng(1);
  for (int i = 0; i < 300; ++i) {
    std::string bad = good;
    const size_t at = rng() % bad.size();
    bad[at] = static_cast<char>(bad[at] ^ (1 + rng() % 255));
    // The checksum covers the header too: even a digit of model_version or
    // of the window (which leaves the layout hash unchanged) is caught.
    EXPECT_FALSE(DecodeModelFile(bad).ok()) << "corruption accepted at byte " << at;
  }
}

TEST(ModelFileTest, TruncatedPaddedAndForeignFilesAreRejectedWithReasons) {
  const std::string good = *EncodeModelFile(SmallModel());
  for (size_t keep : {size_t{0}, size_t{7}, size_t{19}, size_t{40}, good.size() - 1}) {
    EXPECT_FALSE(DecodeModelFile(good.substr(0, keep)).ok()) << keep;
  }
  EXPECT_FALSE(DecodeModelFile(good + "x").ok());
  auto foreign = DecodeModelFile("PK\x03\x04 this is a zip, not a model");
  EXPECT_NE(foreign.status().message().find("not a tacit model file"), std::string::npos);
  std::string future = good;
  future[8] = 2;
  EXPECT_NE(DecodeModelFile(future).status().message().find("format version"), std::string::npos);
  auto missing = LoadModelFile(TempPath("does_not_exist.tmodel"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(ModelFileTest, HeaderWhoseConfigDisagreesWithItsHashIsRejected) {
  std::string bytes = *EncodeModelFile(SmallModel());
  const std::string from = "\"hidden_dim\":12", to = "\"hidden_dim\":13";
  const size_t at = bytes.find(from);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, from.size(), to);
  auto decoded = DecodeModelFile(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("layout hash"), std::string::npos);
}

}  // namespace
}  // namespace tacit
