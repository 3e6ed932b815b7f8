// docs/federation.md's "Quick start on one machine", run verbatim: the shell
// block between its quickstart markers, with the built tools on the PATH and
// free ports, must end with two committed rounds.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tests/integration/fleet_harness.h"

namespace tacit::testing {
namespace {

// The ```sh block between "<!-- quickstart: begin -->" and "... end -->".
std::string QuickStartBlock(const std::string& markdown) {
  const size_t begin = markdown.find("<!-- quickstart: begin -->");
  const size_t end = markdown.find("<!-- quickstart: end -->");
  if (begin == std::string::npos || end == std::string::npos || end < begin) return "";
  const std::string section = markdown.substr(begin, end - begin);
  const size_t open = section.find("```sh\n");
  const size_t close = section.rfind("```");
  if (open == std::string::npos || close == std::string::npos || close <= open) return "";
  return section.substr(open + 6, close - open - 6);
}

TEST(QuickStart, TheDocumentedLocalhostFleetCommitsTwoRounds) {
  const std::string doc = ReadFile(std::string(TACIT_SOURCE_DIR) + "/docs/federation.md");
  const std::string block = QuickStartBlock(doc);
  ASSERT_NE(block, "") << "docs/federation.md lost its quickstart markers or shell block";
  std::string dir = (std::filesystem::temp_directory_path() / "tacit-quickstart-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  {
    std::ofstream script(dir + "/quickstart.sh");
    script << "set -euo pipefail\n" << block;
  }
  const std::string bin = std::filesystem::path(ToolPath("tacit-client")).parent_path().string();
  const std::string command = absl::StrCat(
      "cd '", dir, "' && PATH='", bin, "':\"$PATH\" PORT=", FreeLoopbackPort(),
      " METRICS=", FreeLoopbackPort(), " timeout 240 bash quickstart.sh > out.txt 2>&1");
  const auto start = std::chrono::steady_clock::now();
  const int rc = std::system(command.c_str());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string out = ReadFile(dir + "/out.txt");
  auto logs = [&] {
    return absl::StrCat(out, "\n--- coordinator.log ---\n", ReadFile(dir + "/coordinator.log"),
                        "\n--- laptop-1.log ---\n", ReadFile(dir + "/laptop-1.log"));
  };
  ASSERT_EQ(rc, 0) << "after " << seconds << " s:\n" << logs();
  EXPECT_NE(out.find("model version: 2"), std::string::npos) << logs();
  EXPECT_NE(out.find("last round:    round 2 committed"), std::string::npos) << logs();
  std::cout << "quick start: " << seconds << " s\n";
  if (std::getenv("TACIT_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tacit::testing
