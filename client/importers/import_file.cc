#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/importers/importers.h"
#include "client/importers/line_parsers.h"
#include "client/importers/line_reader.h"
#include "client/importers/time_window.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

constexpr size_t kMaxProblemsKept = 5;

// NUL, other control bytes or malformed UTF-8: a text log never holds them,
// so the line is junk (a torn write, a binary file, a wrong format). The
// Aalto logs are the exception: their LETTER column records typed control
// characters (0x08 for backspace, 0x19 for ctrl+y), so only NUL counts there.
std::string BinaryProblem(absl::string_view line, bool allow_controls) {
  for (size_t i = 0; i < line.size();) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c < 0x80) {
      if (c == 0 || (!allow_controls && ((c < 0x20 && c != '\t') || c == 0x7f))) {
        return absl::StrCat("binary data (byte 0x", absl::Hex(c, absl::kZeroPad2), " at column ",
                            i + 1, ")");
      }
      ++i;
      continue;
    }
    size_t n = (c >= 0xc2 && c <= 0xdf)   ? 2
               : (c >= 0xe0 && c <= 0xef) ? 3
               : (c >= 0xf0 && c <= 0xf4) ? 4
                                          : 0;
    bool ok = n != 0 && i + n <= line.size();
    for (size_t k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(line[i + k]) & 0xc0) == 0x80;
    }
    if (!ok) return absl::StrCat("binary data (invalid UTF-8 at column ", i + 1, ")");
    i += n;
  }
  return "";
}

std::unique_ptr<importers::LineParser> MakeParser(DataFormat format, const ImportOptions& o) {
  switch (format) {
    case DataFormat::kSeaCommands:
      return importers::MakeSeaParser(o);
    case DataFormat::kAaltoKeystrokes:
      return importers::MakeAaltoParser(o);
    case DataFormat::kBalabitMouse:
      return importers::MakeBalabitParser(o);
    case DataFormat::kJsonLines:
      return importers::MakeJsonLinesParser(o);
  }
  return nullptr;
}

// Natural order: "User2" < "User10" (runs of digits compare as numbers).
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& folder) {
  DIR* dir = ::opendir(folder.c_str());
  if (dir == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot open the folder '", folder, "'; check the path to the data set"));
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end(), NaturalLess);
  return names;
}

// Checks the times of one line's events and applies the shift; "" or what is
// wrong.
std::string PlaceInTime(DataFormat format, const ImportOptions& options, int64_t now_ms,
                        std::vector<RawEvent>* events) {
  for (RawEvent& e : *events) {
    if (HasDatedTimes(format)) {
      absl::Status dated = CheckEventTime(e.time_ms, now_ms, "event time");
      if (!dated.ok()) return std::string(dated.message());
    }
    if (!options.time_shift_ms.has_value()) continue;
    int64_t shifted = 0;
    if (__builtin_add_overflow(e.time_ms, *options.time_shift_ms, &shifted)) {
      return absl::StrCat("event time ", e.time_ms, " ms moved by ", *options.time_shift_ms,
                          " ms is outside any date");
    }
    absl::Status placed = CheckEventTime(shifted, now_ms, "event time after the shift");
    if (!placed.ok()) return std::string(placed.message());
    e.time_ms = shifted;
  }
  return "";
}

// The line as the error shows it: printable ASCII kept, anything else as
// \xNN, at most `max` bytes of it.
std::string QuoteLine(absl::string_view line, size_t max) {
  std::string out = "\"";
  for (size_t i = 0; i < line.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  out += line.size() > max ? "\"..." : "\"";
  return out;
}

// The pattern of the sea-commands file names, `User<N>` in any case.
bool IsSeaUserFile(const std::string& name) {
  if (name.size() <= 4 || !absl::StartsWithIgnoreCase(name, "user")) return false;
  return std::all_of(name.begin() + 4, name.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// Which names ListPeople looks for, per format, for the error.
const char* ExpectedNames(DataFormat format) {
  switch (format) {
    case DataFormat::kSeaCommands:
      return "files named User<N> (e.g. User0, User12; any case)";
    case DataFormat::kAaltoKeystrokes:
      return "files named <N>_keystrokes.txt";
    case DataFormat::kBalabitMouse:
      return "folders (one per person, e.g. user7) holding session_* files";
    case DataFormat::kJsonLines:
      return "files named <person>.jsonl";
  }
  return "";
}

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

absl::StatusOr<DataFormat> ParseDataFormat(absl::string_view name) {
  for (DataFormat f : {DataFormat::kSeaCommands, DataFormat::kAaltoKeystrokes,
                       DataFormat::kBalabitMouse, DataFormat::kJsonLines}) {
    if (DataFormatName(f) == name) return f;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown data format '", name,
                   "'; expected sea-commands, aalto-keystrokes, balabit-mouse or jsonl"));
}

absl::string_view DataFormatName(DataFormat format) {
  switch (format) {
    case DataFormat::kSeaCommands:
      return "sea-commands";
    case DataFormat::kAaltoKeystrokes:
      return "aalto-keystrokes";
    case DataFormat::kBalabitMouse:
      return "balabit-mouse";
    case DataFormat::kJsonLines:
      return "jsonl";
  }
  return "unknown";
}

absl::StatusOr<ImportReport> ImportFile(DataFormat format, const std::string& path,
                                        const ImportOptions& options, const RawEventSink& sink) {
  TACIT_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(path, options.max_line_bytes));
  std::unique_ptr<importers::LineParser> parser = MakeParser(format, options);
  ImportReport report;
  report.path = path;
  const int64_t now_ms = ImportTimeMs(options);
  std::vector<RawEvent> events;
  absl::string_view line;
  bool too_long = false;
  while (reader.Next(&line, &too_long)) {
    const int64_t n = reader.line_number();
    report.lines = n;
    std::string problem;
    events.clear();
    if (too_long) {
      problem = absl::StrCat("line longer than ", options.max_line_bytes, " bytes");
    } else {
      problem = BinaryProblem(line, format == DataFormat::kAaltoKeystrokes);
    }
    if (problem.empty()) {
      absl::Status parsed = parser->Parse(line, n, &events);
      problem = parsed.ok() ? PlaceInTime(format, options, now_ms, &events)
                            : std::string(parsed.message());
    }
    if (!problem.empty()) {
      std::string where = absl::StrCat(path, ":", n, ": ", problem);
      if (options.quote_bad_lines && !too_long) {
        absl::StrAppend(&where, " (line: ", QuoteLine(line, 80), ")");
      }
      // A wrong header means a wrong format: stop even when skipping bad lines.
      const bool bad_header =
          n == 1 && (format == DataFormat::kAaltoKeystrokes || format == DataFormat::kBalabitMouse);
      if (options.on_bad_line == OnBadLine::kStop || bad_header) {
        return absl::InvalidArgumentError(absl::StrCat(where, "; ", options.bad_line_hint));
      }
      ++report.skipped_lines;
      if (report.first_problems.size() < kMaxProblemsKept) report.first_problems.push_back(where);
      continue;
    }
    for (const RawEvent& e : events) {
      if (options.max_events > 0 && report.events >= options.max_events) {
        report.stopped_at_limit = true;
        return report;
      }
      TACIT_RETURN_IF_ERROR(sink(e));
      ++report.events;
    }
    if (options.max_events > 0 && report.events >= options.max_events) {
      // At the limit: whether more was left to read is what the caller reports.
      absl::string_view rest;
      bool rest_too_long = false;
      report.stopped_at_limit = reader.Next(&rest, &rest_too_long);
      return report;
    }
  }
  TACIT_RETURN_IF_ERROR(reader.status());
  return report;
}

absl::StatusOr<std::vector<PersonLogs>> ListPeople(DataFormat format, const std::string& folder) {
  TACIT_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(folder));
  std::vector<PersonLogs> people;
  for (const std::string& name : names) {
    const std::string path = folder + "/" + name;
    PersonLogs person;
    switch (format) {
      case DataFormat::kSeaCommands:
        if (IsSeaUserFile(name) && !IsDir(path)) person = {name, {path}};
        break;
      case DataFormat::kAaltoKeystrokes:
        if (absl::EndsWith(name, "_keystrokes.txt")) {
          person = {name.substr(0, name.size() - std::string("_keystrokes.txt").size()), {path}};
        }
        break;
      case DataFormat::kJsonLines:
        if (absl::EndsWith(name, ".jsonl")) person = {name.substr(0, name.size() - 6), {path}};
        break;
      case DataFormat::kBalabitMouse:
        if (IsDir(path)) {
          TACIT_ASSIGN_OR_RETURN(std::vector<std::string> sessions, ListDir(path));
          person.person_id = name;
          for (const std::string& s : sessions) {
            if (absl::StartsWith(s, "session_")) person.files.push_back(path + "/" + s);
          }
        }
        break;
    }
    if (!person.files.empty()) people.push_back(std::move(person));
  }
  if (people.empty()) {
    std::string found = names.empty() ? "it is empty" : "found ";
    for (size_t i = 0; i < names.size() && i < 5; ++i) {
      absl::StrAppend(&found, i > 0 ? ", " : "", "'", names[i], "'");
    }
    if (names.size() > 5) absl::StrAppend(&found, " and ", names.size() - 5, " more");
    return absl::NotFoundError(absl::StrCat("no ", DataFormatName(format), " logs in '", folder,
                                            "': expected ", ExpectedNames(format), "; ", found,
                                            " (docs/data.md describes each format)"));
  }
  if (format == DataFormat::kSeaCommands) {
    // user7 and User7 side by side: two people or one copied twice? Refuse to guess.
    std::map<std::string, std::string> by_lower_name;
    for (const PersonLogs& p : people) {
      auto [it, added] = by_lower_name.emplace(absl::AsciiStrToLower(p.person_id), p.person_id);
      if (!added) {
        return absl::FailedPreconditionError(absl::StrCat(
            "sea-commands folder '", folder, "' holds both '", it->second, "' and '", p.person_id,
            "': the names differ only by case, so which one is the person is ambiguous; keep "
            "one"));
      }
    }
  }
  return people;
}

}  // namespace tacit
