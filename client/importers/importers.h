#pragma once

// Streaming importers: real interaction logs -> RawEvents (then the privacy
// filter). Constant memory: a file is read line by line and every event goes
// straight to the sink. Malformed lines give errors naming the file, the line
// and what was wrong; OnBadLine chooses to stop there or skip and count.
// Formats (docs/data.md has the details):
//   sea-commands      one shell command name per line (SEA masquerade data)
//   aalto-keystrokes  TSV with header, one key press+release per row
//   balabit-mouse     CSV with header, one mouse event per row
//   jsonl             tacit's own JSON-lines raw event format for collectors

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/raw_event.h"

namespace tacit {

enum class DataFormat { kSeaCommands, kAaltoKeystrokes, kBalabitMouse, kJsonLines };

absl::StatusOr<DataFormat> ParseDataFormat(absl::string_view name);  // names as above
absl::string_view DataFormatName(DataFormat format);

enum class OnBadLine { kStop, kSkip };

struct ImportOptions {
  OnBadLine on_bad_line = OnBadLine::kStop;
  int64_t max_events = 0;                  // stop after this many events; 0 = the whole file
  int64_t sea_command_interval_ms = 1000;  // SEA has no times: commands this far apart
  int screen_width = 1920;                 // Balabit logs pixels without the screen size
  int screen_height = 1080;
  size_t max_line_bytes = 64 * 1024;
  // Times (client/importers/time_window.h): a line with an event outside
  // [1990-01-01, import time + 1 day] is a bad line. Formats with dated
  // times are checked as read; with time_shift_ms set, every event is moved
  // by it and then checked, whatever the format (relative times become dates).
  int64_t now_ms = 0;  // the import time; 0 = the wall clock
  std::optional<int64_t> time_shift_ms;
  // Quote the bad line's content (80 bytes at most) in errors and problems.
  // Off for the laptop's own logs, where a malformed line may hold command
  // arguments or typed text that must not be echoed; on for research data
  // sets (LoadPopulation), where the line is what the researcher must fix.
  bool quote_bad_lines = false;
  // The end of the error for a bad line with kStop: what the caller's user
  // can do (the tool's own option to skip).
  std::string bad_line_hint =
      "fix the line, or import with skipping of bad lines to count and skip it";
};

struct ImportReport {
  std::string path;
  int64_t lines = 0;                        // lines read, header included
  int64_t events = 0;                       // raw events handed to the sink
  int64_t skipped_lines = 0;                // malformed lines skipped (OnBadLine::kSkip)
  bool stopped_at_limit = false;            // max_events reached before the end of the file
  std::vector<std::string> first_problems;  // up to 5 "file:line: what" messages
};

// Receives each event; a non-OK status stops the import and is returned.
using RawEventSink = std::function<absl::Status(const RawEvent&)>;

// Imports one file. With kStop, the first malformed line returns
// InvalidArgument "path:line: what[ (line: "its content, truncated")]; hint"
// (the content with quote_bad_lines);
// events before it were already delivered.
absl::StatusOr<ImportReport> ImportFile(DataFormat format, const std::string& path,
                                        const ImportOptions& options, const RawEventSink& sink);

// The per-person logs in a data set folder, people in natural order (User2
// before User10). sea: files User<N> (any case: user7, USER7;
// FailedPrecondition when two names differ only by case); aalto: N_keystrokes.txt; balabit: folders
// userN of session_* files; jsonl: PERSON.jsonl files. NotFound for a folder
// without any names the expected pattern and a few of the names found.
struct PersonLogs {
  std::string person_id;
  std::vector<std::string> files;
};
absl::StatusOr<std::vector<PersonLogs>> ListPeople(DataFormat format, const std::string& folder);

}  // namespace tacit
