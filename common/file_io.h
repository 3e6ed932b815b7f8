#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tacit {

// Reads a whole file. NotFound / PermissionDenied / Internal with the path.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Writes `contents` to `path` atomically: a temporary file beside it is
// written, fsync'ed and renamed over `path`, and the directory is fsync'ed, so
// a crash leaves either the old or the new file, never a torn one.
// `mode` is applied to the new file (e.g. 0600 for secrets).
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 int mode = 0644);

// Appends `line` and a newline to `path` (created with `mode` if missing)
// in one O_APPEND write, then fsyncs: concurrent appenders, threads or
// processes, never lose or interleave each other's lines (a log, not a
// rewrite: WriteFileAtomically's read-modify-rename would lose updates).
absl::Status AppendLineDurably(const std::string& path, absl::string_view line, int mode = 0644);

// Creates `path` and its parents if missing (like mkdir -p).
absl::Status MakeDirectories(const std::string& path, int mode = 0755);

}  // namespace tacit
