// Runs the real build/bin/tacit-coordinator.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_io.h"
#include "coordinator/pki.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "privacy/ddg_planner.h"
#include "privacy/pld_accountant.h"
#include "privacy/rdp_accountant.h"
#include "task/task_config.h"
#include "tests/support/shared_data.h"

namespace tacit::coordinator {
namespace {

using ::testing::HasSubstr;

struct ToolRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tool_ = ::tacit::testing::BinaryDir() + "/bin/tacit-coordinator";
    if (!std::filesystem::exists(tool_)) GTEST_SKIP() << "tool not built: " << tool_;
    dir_ = ::testing::TempDir() + "/cli_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  // `merge_stderr` false: stderr goes to the test's log, `output` is stdout only.
  ToolRun Tool(const std::string& args, bool merge_stderr = true) {
    ToolRun run;
    FILE* pipe = ::popen((tool_ + " " + args + (merge_stderr ? " 2>&1" : "")).c_str(), "r");
    if (pipe == nullptr) return run;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) run.output.append(buf, n);
    int status = ::pclose(pipe);
    // A signal (SIGABRT from an uncaught exception) is -1, never a clean exit.
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
  }

  // `serve` with `config` on a fresh PKI: it must refuse (exit 1) before
  // serving (no endpoint.json). Returns its output.
  ToolRun ServeRefused(const std::string& config) {
    const std::string pki = dir_ + "/serve-pki";
    EXPECT_EQ(Tool("pki init " + pki + " --server-name localhost").exit_code, 0);
    ToolRun serve = Tool("serve --config " + config + " --state " + dir_ + "/state --pki " + pki +
                         " --listen 127.0.0.1:0 --metrics ''");
    EXPECT_EQ(serve.exit_code, 1) << serve.output;
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/state/endpoint.json"));  // never served
    return serve;
  }

  std::string tool_;
  std::string dir_;
};

TEST_F(CliTest, PkiInitAndIssueCreateAVerifiableFleet) {
  std::string pki = dir_ + "/pki";
  ToolRun init = Tool("pki init " + pki + " --server-name localhost --server-name 127.0.0.1");
  ASSERT_EQ(init.exit_code, 0) << init.output;
  ToolRun issue = Tool("pki issue laptop-9 --dir " + pki);
  ASSERT_EQ(issue.exit_code, 0) << issue.output;
  EXPECT_THAT(issue.output, HasSubstr("devices/laptop-9.crt"));
  auto id = VerifyDeviceCertificate(*ReadFileToString(pki + "/devices/laptop-9.crt"),
                                    *ReadFileToString(pki + "/ca.crt"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "laptop-9");

  ToolRun bad_id = Tool("pki issue 'bad id' --dir " + pki);
  EXPECT_EQ(bad_id.exit_code, 1);
  EXPECT_THAT(bad_id.output, HasSubstr("device id 'bad id' is invalid"));
  ToolRun again = Tool("pki init " + pki + " --server-name x");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.output, HasSubstr("already holds a fleet CA"));
  EXPECT_NE(Tool("pki").exit_code, 0);
  EXPECT_NE(Tool("").exit_code, 0);
}

TEST_F(CliTest, CheckConfigAcceptsTheExampleAndNamesBadKeys) {
  std::string example =
      std::string(TACIT_SOURCE_DIR) + "/coordinator/examples/next_event_task.json";
  ToolRun good = Tool("check-config " + example, /*merge_stderr=*/false);
  ASSERT_EQ(good.exit_code, 0) << good.output;
  absl::StatusOr<TaskConfig> parsed = ParseTaskConfig(nlohmann::json::parse(good.output));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->name, "next-event-gru-v1");
  EXPECT_EQ(parsed->server_optimizer.type, ServerOptimizerType::kFedAdam);

  std::string bad = dir_ + "/bad.json";
  ASSERT_TRUE(WriteFileAtomically(bad, R"({"name": "x", "model": {"name": "gru"},
      "vocab": {"salt": "s"}, "dp": {"noise_multiplyer": 1.0}})")
                  .ok());
  ToolRun refused = Tool("check-config " + bad);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr("unknown config key 'dp.noise_multiplyer'"));
}

// Reported: check-config aborted (SIGABRT) on a number beyond the double range.
TEST_F(CliTest, CheckConfigRefusesAHugeNumberWithAnErrorNotAnAbort) {
  std::string huge = dir_ + "/huge.json";
  ASSERT_TRUE(WriteFileAtomically(huge, R"({"name": "x", "model": {"name": "gru"},
      "vocab": {"salt": "s"}, "dp": {"clip_norm": 1e400}})")
                  .ok());
  ToolRun refused = Tool("check-config " + huge);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("huge.json is not valid JSON"));
}

// SecAgg+ overrides far from the 2^-40 / 2^-20 targets: check-config prints
// the bounds, refuses unless --force (then warns), and serve refuses too.
TEST_F(CliTest, CheckConfigAndServeRefuseWeakSecureAggOverridesUnlessForced) {
  std::string weak = dir_ + "/weak.json";
  ASSERT_TRUE(WriteFileAtomically(weak, R"({"name": "x", "model": {"name": "gru"},
      "vocab": {"salt": "s"}, "cohort": {"size": 500, "over_selection": 1.3,
      "min_survivors": 350}, "secure_agg": {"neighbors": 40, "threshold": 28}})")
                  .ok());
  ToolRun refused = Tool("check-config " + weak);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("privacy failure 2^"));
  EXPECT_THAT(refused.output, HasSubstr("worse than the targets"));
  ToolRun forced = Tool("check-config --force " + weak);
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_THAT(forced.output, HasSubstr("WARNING (--force)"));

  ToolRun serve = ServeRefused(weak);
  EXPECT_THAT(serve.output, HasSubstr("worse than the targets"));

  std::string example =
      std::string(TACIT_SOURCE_DIR) + "/coordinator/examples/next_event_task.json";
  ToolRun good = Tool("check-config " + example);
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_THAT(good.output, HasSubstr("automatic: threshold"));
  EXPECT_THAT(good.output, ::testing::Not(HasSubstr("WARNING")));
  EXPECT_THAT(good.output, HasSubstr("projected epsilon 7.58"));
}

// Issue 19: `cohort.size 3, min_survivors 2` passed check-config (then seated
// clients waited forever), and neither check-config nor serve said what the
// schedule's epsilon would be.
TEST_F(CliTest, CheckConfigRefusesAnUnrunnableCohortAndProjectsEpsilon) {
  auto write_task = [this](const std::string& name, const std::string& cohort,
                           const std::string& dp) {
    std::string path = dir_ + "/" + name + ".json";
    EXPECT_TRUE(WriteFileAtomically(path, absl::StrCat(R"({"name": "x", "model": {"name": "gru"},
      "vocab": {"salt": "s"}, "rounds": 16, "cohort": )",
                                                       cohort, R"(, "dp": )", dp, "}"))
                    .ok());
    return path;
  };
  const std::string small = write_task("small", R"({"size": 3, "min_survivors": 2})", "{}");
  ToolRun refused = Tool("check-config " + small);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("cohort.min_survivors 2"));
  EXPECT_THAT(refused.output, HasSubstr("secure aggregation needs a cohort of at least 3"));

  const std::string quiet =
      write_task("quiet", R"({"size": 5, "over_selection": 1.0, "min_survivors": 4})",
                 R"({"noise_multiplier": 5.0, "clip_norm": 1.0, "delta": 1e-5})");
  ToolRun ok = Tool("check-config " + quiet);
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_THAT(ok.output, HasSubstr("tolerates up to 1 dropouts"));
  auto task = LoadTaskConfigFile(quiet);
  ASSERT_TRUE(task.ok()) << task.status();
  privacy::RdpAccountant accountant;
  // The default mechanism, the discrete Gaussian, is accounted with the
  // Gaussian-dominated bound (GlobalModel).
  ASSERT_EQ(task->dp.mechanism, DpMechanism::kDiscreteGaussian);
  ASSERT_TRUE(accountant.ComposeGaussianDominated(1.0, 5.0, 16).ok());
  const double epsilon = accountant.Spent(1e-5)->epsilon;
  ASSERT_LT(epsilon, 10);
  EXPECT_THAT(ok.output, HasSubstr(absl::StrFormat("projected epsilon %.2f at delta 1e-05 after "
                                                   "all 16 rounds",
                                                   epsilon)));
  EXPECT_THAT(ok.output, ::testing::Not(HasSubstr("is large")));

  const std::string loud =
      write_task("loud", R"({"size": 5, "over_selection": 1.0, "min_survivors": 4})",
                 R"({"noise_multiplier": 0.8, "clip_norm": 1.0, "delta": 1e-5})");
  ToolRun warned = Tool("check-config " + loud);
  ASSERT_EQ(warned.exit_code, 0) << warned.output;
  EXPECT_THAT(warned.output, HasSubstr("is large (above 10)"));
  // serve refuses the cohort no round can run with, before it serves.
  ToolRun serve = ServeRefused(small);
  EXPECT_THAT(serve.output, HasSubstr("cohort.min_survivors 2"));
}

TEST_F(CliTest, PkiRevokeAndListShowRevokedCertificates) {
  std::string pki = dir_ + "/pki";
  ASSERT_EQ(Tool("pki init " + pki + " --server-name localhost").exit_code, 0);
  ASSERT_EQ(Tool("pki issue laptop-1 --dir " + pki).exit_code, 0);
  ASSERT_EQ(Tool("pki issue laptop-2 --dir " + pki).exit_code, 0);
  ASSERT_EQ(Tool("pki issue laptop-1 --replace --dir " + pki).exit_code, 0);
  ToolRun revoke = Tool("pki revoke laptop-2 --dir " + pki);
  ASSERT_EQ(revoke.exit_code, 0) << revoke.output;
  EXPECT_THAT(revoke.output, HasSubstr("revoked laptop-2 serial"));
  EXPECT_EQ(Tool("pki revoke nobody --dir " + pki).exit_code, 1);

  ToolRun list = Tool("pki list --dir " + pki);
  ASSERT_EQ(list.exit_code, 0) << list.output;
  // laptop-1's first certificate (replaced) and laptop-2's are revoked; laptop-1's second is valid.
  int revoked = 0, valid = 0;
  std::istringstream lines(list.output);
  for (std::string line; std::getline(lines, line);) {
    revoked += line.find("revoked") != std::string::npos;
    valid += line.find("valid") != std::string::npos;
  }
  EXPECT_EQ(revoked, 2) << list.output;
  EXPECT_EQ(valid, 1) << list.output;
}

TEST_F(CliTest, PrivacyPrintsTheAccountantsEpsilon) {
  ToolRun run = Tool(
      "privacy --rounds 10000 --sampling-rate 0.01 --noise-multiplier 1.1 --delta 1e-5 "
      "--mechanism continuous_gaussian");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  privacy::RdpAccountant accountant;
  ASSERT_TRUE(accountant.ComposeSampledGaussian(0.01, 1.1, 10000).ok());
  char expected[32];
  std::snprintf(expected, sizeof(expected), "epsilon %.4f", accountant.Spent(1e-5)->epsilon);
  EXPECT_THAT(run.output, HasSubstr(expected));
  // The PLD accountant's figure next to it, never above RDP's.
  privacy::PldAccountant pld;
  ASSERT_TRUE(pld.ComposeSampledGaussian(0.01, 1.1, 10000).ok());
  const double pld_epsilon = *pld.Epsilon(1e-5);
  EXPECT_LE(pld_epsilon, accountant.Spent(1e-5)->epsilon);
  std::snprintf(expected, sizeof(expected), "epsilon %.4f", pld_epsilon);
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat(expected, " at delta 1e-05 by the PLD")));
  EXPECT_NE(Tool("privacy --sampling-rate 2").exit_code, 0);

  // q = 1 (the default): the rounds compose exactly to one Gaussian with
  // z / sqrt(R); the PLD accountant composing them one by one agrees.
  ToolRun unsampled = Tool(
      "privacy --rounds 10 --noise-multiplier 1.1 --delta 1e-6 --mechanism continuous_gaussian");
  ASSERT_EQ(unsampled.exit_code, 0) << unsampled.output;
  privacy::PldAccountant composed;
  ASSERT_TRUE(composed.ComposeSampledGaussian(1.0, 1.1, 10).ok());
  const size_t at = unsampled.output.find("\nepsilon ");
  ASSERT_NE(at, std::string::npos) << unsampled.output;
  const double shown = std::stod(unsampled.output.substr(at + 9));
  EXPECT_NEAR(shown, *composed.Epsilon(1e-6), 0.01 * shown) << unsampled.output;
}

// The fleet's default, the discrete Gaussian: the general subsampling bound
// the coordinator and the laptops use, no PLD figure; and the z a target
// epsilon needs, which spends at most that epsilon and 0.1% less z more.
TEST_F(CliTest, PrivacyAccountsTheDiscreteGaussianAndSolvesForATargetEpsilon) {
  ToolRun run =
      Tool("privacy --rounds 50 --sampling-rate 0.025 --noise-multiplier 0.9 --delta 1e-6");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  privacy::RdpAccountant accountant;
  ASSERT_TRUE(accountant.ComposeGaussianDominated(0.025, 0.9, 50).ok());
  char expected[32];
  std::snprintf(expected, sizeof(expected), "epsilon %.4f", accountant.Spent(1e-6)->epsilon);
  EXPECT_THAT(run.output, HasSubstr(expected));
  EXPECT_THAT(run.output, HasSubstr("discrete_gaussian"));
  EXPECT_THAT(run.output, HasSubstr("PLD accountant: not for the discrete Gaussian"));

  ToolRun solved =
      Tool("privacy --rounds 50 --sampling-rate 0.025 --delta 1e-6 --target-epsilon 4");
  ASSERT_EQ(solved.exit_code, 0) << solved.output;
  ASSERT_THAT(solved.output, HasSubstr("noise multiplier "));
  const double z = std::stod(solved.output.substr(solved.output.find("noise multiplier ") + 17));
  privacy::RdpAccountant at_z, below_z;
  ASSERT_TRUE(at_z.ComposeGaussianDominated(0.025, z, 50).ok());
  ASSERT_TRUE(below_z.ComposeGaussianDominated(0.025, z * 0.99, 50).ok());
  EXPECT_LE(at_z.Spent(1e-6)->epsilon, 4.0 * 1.0001);
  EXPECT_GT(below_z.Spent(1e-6)->epsilon, 4.0);
  EXPECT_NE(Tool("privacy --target-epsilon 1e-9 --rounds 1000").exit_code, 0);

  // The bits per coordinate the plan needs, from the same planner the
  // laptops run: the narrowest ring listed within 5% of the Gaussian's error.
  ToolRun plans = Tool(
      "privacy --rounds 50 --sampling-rate 0.025 --noise-multiplier 0.64 --model-length 30000 "
      "--min-survivors 250 --max-clients 650");
  ASSERT_EQ(plans.exit_code, 0) << plans.output;
  const size_t needed_at = plans.output.find("bits per coordinate needed: ");
  ASSERT_NE(needed_at, std::string::npos) << plans.output;
  const int needed = std::stoi(plans.output.substr(needed_at + 28));
  privacy::DdgNoiseRequest request;
  request.noise_multiplier = 0.64;
  request.clip = 1;
  request.min_clients = 250;
  request.max_clients = 650;
  request.dim = 30000;
  request.bits = needed;
  EXPECT_LE(privacy::PlanDdgForNoise(request)->noise_inflation, 1.05);
  request.bits = needed - 1;
  absl::StatusOr<privacy::DdgPlan> narrower = privacy::PlanDdgForNoise(request);
  EXPECT_TRUE(!narrower.ok() || narrower->noise_inflation > 1.05);
  EXPECT_NE(Tool("privacy --model-length 30000").exit_code, 0) << "needs the cohort's sizes";
  EXPECT_NE(Tool("privacy --mechanism skellam").exit_code, 0);
}

}  // namespace
}  // namespace tacit::coordinator
