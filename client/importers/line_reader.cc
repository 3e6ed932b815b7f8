#include "client/importers/line_reader.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tacit {
namespace {
constexpr size_t kChunkBytes = 256 * 1024;
}

LineReader::LineReader(std::FILE* file, std::string path, size_t max_line_bytes)
    : file_(file), path_(std::move(path)), max_line_bytes_(max_line_bytes) {}

absl::StatusOr<LineReader> LineReader::Open(const std::string& path, size_t max_line_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    std::string what = absl::StrCat("cannot open '", path, "': ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(what + "; check the path");
    if (err == EACCES) return absl::PermissionDeniedError(what + "; check its permissions");
    return absl::InternalError(what);
  }
  return LineReader(f, path, max_line_bytes);
}

bool LineReader::Fill() {
  if (eof_) return false;
  buffer_.erase(0, begin_);
  begin_ = 0;
  size_t old = buffer_.size();
  buffer_.resize(old + kChunkBytes);
  size_t n = std::fread(buffer_.data() + old, 1, kChunkBytes, file_.get());
  buffer_.resize(old + n);
  if (n < kChunkBytes) {
    if (std::ferror(file_.get())) {
      status_ = absl::DataLossError(absl::StrCat("read error in '", path_, "' after line ",
                                                 line_number_, ": ", std::strerror(errno)));
    }
    eof_ = true;
  }
  return n > 0;
}

bool LineReader::Next(absl::string_view* line, bool* too_long) {
  *too_long = false;
  size_t scanned = begin_;
  bool skipping = false;  // inside a too-long line: drop bytes until its newline
  while (true) {
    size_t nl = buffer_.find('\n', scanned);
    if (nl != std::string::npos) {
      ++line_number_;
      if (skipping || nl - begin_ > max_line_bytes_) {
        *too_long = true;
        *line = absl::string_view();
      } else {
        size_t end = nl;
        if (end > begin_ && buffer_[end - 1] == '\r') --end;
        *line = absl::string_view(buffer_).substr(begin_, end - begin_);
      }
      begin_ = nl + 1;
      return true;
    }
    if (buffer_.size() - begin_ > max_line_bytes_) {
      skipping = true;  // keep memory bounded: forget the line's bytes so far
      begin_ = buffer_.size();
    }
    const size_t unread_scanned = buffer_.size() - begin_;
    if (!Fill()) {
      if (begin_ >= buffer_.size() && !skipping) return false;
      // Last line without a trailing newline.
      ++line_number_;
      *too_long = skipping;
      size_t end = buffer_.size();
      if (end > begin_ && buffer_[end - 1] == '\r') --end;
      *line =
          skipping ? absl::string_view() : absl::string_view(buffer_).substr(begin_, end - begin_);
      begin_ = buffer_.size();
      return true;
    }
    scanned = unread_scanned;  // Fill() moved the unread bytes to the front
  }
}

}  // namespace tacit
