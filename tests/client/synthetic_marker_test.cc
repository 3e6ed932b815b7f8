// synthetic.json (client/synthetic_activity.h) is read by the daemon, by
// `inspect` and by `generate-activity`: a damaged one is a clear error
// naming the file and what to do, never an exception out of the JSON
// library (json.value() throws on a value of another type).

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "client/synthetic_activity.h"
#include "nlohmann/json.hpp"
#include "tests/client/temp_dir.h"
#include "tests/support/test_seed.h"

namespace tacit {
namespace {

const nlohmann::json kValid = {{"generated", 120},
                               {"stored", 100},
                               {"persona", "developer"},
                               {"first_ms", 1767571200000},
                               {"last_ms", 1767574800000}};

TEST(SyntheticMarker, ReadsAValidMarkerAndNoneWhenAbsent) {
  testing::TempDir tmp;
  absl::StatusOr<std::optional<SyntheticActivity>> none = LoadSyntheticMarker(tmp.path());
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  tmp.Write(kSyntheticMarkerFile, kValid.dump());
  absl::StatusOr<std::optional<SyntheticActivity>> read = LoadSyntheticMarker(tmp.path());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->generated, 120);
  EXPECT_EQ((*read)->stored, 100);
  EXPECT_EQ((*read)->persona, "developer");
  EXPECT_EQ((*read)->first_ms, 1767571200000);
  EXPECT_EQ((*read)->last_ms, 1767574800000);
}

// Each field in turn given a value of another type, removed, or the whole
// file not JSON or not an object: an error naming the file, no exception.
TEST(SyntheticMarker, ADamagedMarkerIsAnErrorNotAnException) {
  const auto seed = static_cast<uint32_t>(::tacit::testing::TestSeed());
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937 rng(seed);
  const std::vector<nlohmann::json> wrong = {
      "text", 1.5, -3, nullptr, nlohmann::json::array(), nlohmann::json::object(), true};
  std::vector<std::string> damaged = {"{broken", "[1,2]", "\"synthetic\"", ""};
  for (const auto& field : kValid.items()) {
    nlohmann::json missing = kValid;
    missing.erase(field.key());
    damaged.push_back(missing.dump());
    // A persona is text and counts are whole numbers >= 0: only wrong values.
    for (int i = 0; i < 3; ++i) {
      const nlohmann::json& value = wrong[rng() % wrong.size()];
      const bool fits = field.key() == "persona"
                            ? value.is_string()
                            : value.is_number_integer() && value.get<int64_t>() >= 0;
      if (fits) continue;
      nlohmann::json bad = kValid;
      bad[field.key()] = value;
      damaged.push_back(bad.dump());
    }
  }
  for (const std::string& text : damaged) {
    SCOPED_TRACE(text);
    testing::TempDir tmp;
    tmp.Write(kSyntheticMarkerFile, text);
    absl::StatusOr<std::optional<SyntheticActivity>> read;
    ASSERT_NO_THROW(read = LoadSyntheticMarker(tmp.path()));
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
    EXPECT_NE(read.status().message().find(kSyntheticMarkerFile), std::string::npos)
        << read.status();
    EXPECT_NE(read.status().message().find("erase --all"), std::string::npos) << read.status();
  }
}

}  // namespace
}  // namespace tacit
