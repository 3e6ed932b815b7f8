#pragma once

// Reads a text file line by line in fixed-size chunks, so memory stays
// bounded whatever the file holds: a line longer than the limit is reported
// as too long (its bytes are skipped, not buffered).

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tacit {

class LineReader {
 public:
  static constexpr size_t kDefaultMaxLineBytes = 64 * 1024;

  static absl::StatusOr<LineReader> Open(const std::string& path,
                                         size_t max_line_bytes = kDefaultMaxLineBytes);

  // Next line without its "\n" (and "\r"). False at end of file.
  // `*too_long` is set when the line exceeded the limit (then `line` is empty).
  bool Next(absl::string_view* line, bool* too_long);
  int64_t line_number() const { return line_number_; }
  // Non-OK after a read error (reported once Next returned false).
  absl::Status status() const { return status_; }

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  LineReader(std::FILE* file, std::string path, size_t max_line_bytes);
  bool Fill();

  std::unique_ptr<std::FILE, Closer> file_;
  std::string path_;
  size_t max_line_bytes_;
  std::string buffer_;
  size_t begin_ = 0;  // start of unread bytes in buffer_
  bool eof_ = false;
  int64_t line_number_ = 0;
  absl::Status status_;
};

}  // namespace tacit
