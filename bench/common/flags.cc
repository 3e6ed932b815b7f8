#include "bench/common/flags.h"

#include <cstdio>

namespace tacit::bench {

void AddCommonFlags(CLI::App& app, CommonFlags* flags) {
  app.add_option("--json", flags->json_path,
                 "write the JSON report (figures and machine) to this file instead of stdout");
}

std::optional<int> ParseFlags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e);  // prints the usage to stdout
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\nRun with --help for the flags it takes.\n",
                 app.get_name().empty() ? "bench" : app.get_name().c_str(), e.what());
    return kExitBadFlags;
  }
  return std::nullopt;
}

}  // namespace tacit::bench
