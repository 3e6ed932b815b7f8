#pragma once

// One parser per format: turns one line into 0..n raw events or says what is
// wrong with it (the driver in import_file.cc adds file and line).

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/importers/importers.h"

namespace tacit::importers {

class LineParser {
 public:
  virtual ~LineParser() = default;
  // `line_number` is 1-based; headers are checked on line 1.
  virtual absl::Status Parse(absl::string_view line, int64_t line_number,
                             std::vector<RawEvent>* out) = 0;
};

std::unique_ptr<LineParser> MakeSeaParser(const ImportOptions& options);
std::unique_ptr<LineParser> MakeAaltoParser(const ImportOptions& options);
std::unique_ptr<LineParser> MakeBalabitParser(const ImportOptions& options);
std::unique_ptr<LineParser> MakeJsonLinesParser(const ImportOptions& options);

// Splits on `sep` and checks the column count; InvalidArgument naming both.
absl::Status SplitColumns(absl::string_view line, char sep, size_t expected,
                          std::vector<absl::string_view>* columns);
absl::Status ParseInt(absl::string_view text, absl::string_view column, int64_t* out);
absl::Status ParseDouble(absl::string_view text, absl::string_view column, double* out);

}  // namespace tacit::importers
