#include "models/blas_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace tacit {
namespace {

const std::vector<std::string> kAvx512 = {"avx512f", "avx512cd", "avx512bw", "avx512dq",
                                          "avx512vl"};

bool Has(const std::vector<std::string>& flags, const std::string& flag) {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

// Random subsets of the flags that matter, among others, in random order: the
// choice must follow exactly from which of them are present.
TEST(BlasKernelsTest, BestCoreFollowsTheCpuFlags) {
  std::vector<std::string> relevant = kAvx512;
  relevant.insert(relevant.end(), {"avx512_bf16", "avx2", "fma", "avx", "sse4_2", "avx512ifma"});
  std::mt19937_64 rng(11);
  for (int i = 0; i < 500; ++i) {
    std::vector<std::string> flags;
    for (const auto& f : relevant) {
      if (rng() % 3 != 0) flags.push_back(f);
    }
    std::shuffle(flags.begin(), flags.end(), rng);
    const bool avx512 = std::all_of(kAvx512.begin(), kAvx512.end(),
                                    [&](const std::string& f) { return Has(flags, f); });
    std::string expected;
    if (avx512 && Has(flags, "avx512_bf16")) {
      expected = "Cooperlake";
    } else if (avx512) {
      expected = "SkylakeX";
    } else if (Has(flags, "avx2") && Has(flags, "fma")) {
      expected = "Haswell";
    }
    EXPECT_EQ(BestOpenBlasCore(flags), expected) << "case " << i;
  }
}

TEST(BlasKernelsTest, RestartsOnlyToUpgradeAndOnlyWhenTheUserChoseNothing) {
  const std::vector<std::string> zen5 = {"sse4_2",   "avx",        "avx2",     "fma",
                                         "avx512f",  "avx512cd",   "avx512bw", "avx512dq",
                                         "avx512vl", "avx512_bf16"};
  const std::vector<std::string> avx2_only = {"avx", "avx2", "fma"};
  // OpenBLAS 0.3.21 on a CPU newer than its table: generic kernels.
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "Prescott", zen5), "Cooperlake");
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "Prescott", avx2_only), "Haswell");
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "Sandybridge", avx2_only), "Haswell");
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "", avx2_only), "Haswell");
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "Haswell", zen5), "Cooperlake");
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "zen", zen5), "Cooperlake");
  // Already the best, or better than what we would pick: no restart, no downgrade.
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "Cooperlake", zen5), "");
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "SapphireRapids", zen5), "");
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "Zen", avx2_only), "");
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "SkylakeX", avx2_only), "");
  // A CPU without AVX2: nothing to gain.
  EXPECT_EQ(OpenBlasCoreToRestartWith(nullptr, "Prescott", {"sse4_2", "avx"}), "");
  // An explicit OPENBLAS_CORETYPE is the user's choice, even a slow one.
  EXPECT_EQ(OpenBlasCoreToRestartWith("Prescott", "Prescott", zen5), "");
  EXPECT_EQ(OpenBlasCoreToRestartWith("", "Prescott", zen5), "");
}

TEST(BlasKernelsTest, ReadsThisMachinesFlags) {
  const auto flags = CpuFlags();
  ASSERT_FALSE(flags.empty()) << "/proc/cpuinfo has no flags line";
  // Every x86-64 CPU has SSE2; the line was split into words, not kept whole.
  EXPECT_TRUE(Has(flags, "sse2"));
  std::printf("best OpenBLAS core here: '%s'\n", BestOpenBlasCore(flags).c_str());
}

}  // namespace
}  // namespace tacit
