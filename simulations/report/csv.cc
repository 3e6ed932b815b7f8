#include "simulations/report/csv.h"

#include "absl/strings/str_cat.h"

namespace tacit::sim {

std::string CsvQuote(absl::string_view field) {
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(field);
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text, absl::string_view name) {
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  int line = 1;
  bool in_record = false;  // a field of the current record has begun
  size_t i = 0;
  auto end_record = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    records.push_back(std::move(record));
    record = CsvRecord{};
    in_record = false;
  };
  while (i < text.size()) {
    if (!in_record) {
      if (text[i] == '\n' || text[i] == '\r') {  // an empty line
        if (text[i] == '\n') ++line;
        ++i;
        continue;
      }
      record.line = line;
      in_record = true;
    }
    const char c = text[i];
    if (c == '"' && field.empty()) {
      // A quoted field: up to the quote not doubled, then a separator.
      const int opened = line;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field += text[i++];
      }
      if (!closed) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ":", opened, ": a quoted field is never closed (a field's \" must be doubled)"));
      }
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ":", line, ": '", std::string(1, text[i]),
            "' after a closing quote; a quoted field ends at a comma or the line end"));
      }
      if (i < text.size() && text[i] == ',') {
        record.fields.push_back(std::move(field));
        field.clear();
        ++i;
        if (i == text.size()) end_record();
      }
      continue;
    }
    if (c == ',') {
      record.fields.push_back(std::move(field));
      field.clear();
      ++i;
      if (i == text.size()) end_record();  // a trailing empty field
      continue;
    }
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r') {
      end_record();
      ++line;
      ++i;
      continue;
    }
    if (c == '"') {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ":", line, ": a double quote inside an unquoted field; quote the field"));
    }
    field += c;
    ++i;
  }
  if (in_record) end_record();
  return records;
}

}  // namespace tacit::sim
