#pragma once

// CSV as RFC 4180 writes it: the run files (rounds.csv, personal.csv) hold
// free text (an abandoned round's reason, a person's id from a data set's file
// names) that may contain commas, quotes or line breaks, so such a field is
// quoted, and the reader refuses what it cannot read rather than skip it.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tacit::sim {

// `field` as one CSV field: unchanged when it holds no comma, double quote,
// CR or LF; otherwise in double quotes with each quote doubled.
std::string CsvQuote(absl::string_view field);

// One record and the line it starts on (1-based; a quoted field may span lines).
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

// Every record of `text` (CRLF or LF line ends; empty lines skipped).
// InvalidArgument naming `name` and the line for a quote that is never closed
// or a character after a closing quote other than a comma or a line end.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text, absl::string_view name);

}  // namespace tacit::sim
