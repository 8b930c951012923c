// CSV parsing and atomic file writes.
#include "data/csv.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/ranges.h>

#include "kernels/error.h"

namespace gcnn {

int CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

int CsvTable::require_column(std::string_view name) const {
  int i = column(name);
  GCNN_CHECK(i >= 0, "{}: missing column '{}' (columns: {})", source, name, fmt::join(header, ", "));
  return i;
}

CsvTable parse_csv(std::string_view text, const std::string& source, CsvParseOptions options) {
  CsvTable table;
  table.source = source;
  std::size_t pos = 0, line = 1;
  if (text.starts_with("\xEF\xBB\xBF")) pos = 3;  // UTF-8 byte-order mark
  bool have_header = false;
  while (pos < text.size()) {
    CsvRow row;
    row.line = line;
    std::string field;
    bool quoted_field = false;
    bool row_done = false;
    while (!row_done) {
      if (pos >= text.size()) {
        row.fields.push_back(std::move(field));
        break;
      }
      char c = text[pos];
      if (c == '"' && field.empty() && !quoted_field) {
        quoted_field = true;
        std::size_t start_line = line;
        ++pos;
        for (;;) {
          GCNN_CHECK(pos < text.size(), "{}:{}: unterminated quoted field", source, start_line);
          char q = text[pos++];
          if (q == '"') {
            if (pos < text.size() && text[pos] == '"') {
              field.push_back('"');
              ++pos;
            } else {
              break;
            }
          } else {
            if (q == '\n') ++line;
            field.push_back(q);
          }
        }
        continue;
      }
      if (c == ',') {
        row.fields.push_back(std::move(field));
        field.clear();
        quoted_field = false;
        ++pos;
      } else if (c == '\r' || c == '\n') {
        row.fields.push_back(std::move(field));
        if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ++pos;
        ++pos;
        ++line;
        row_done = true;
      } else {
        GCNN_CHECK(!quoted_field, "{}:{}: characters after a closing quote", source, line);
        field.push_back(c);
        ++pos;
      }
    }
    bool blank = row.fields.size() == 1 && row.fields[0].empty();
    if (blank) continue;
    if (!have_header) {
      table.header = std::move(row.fields);
      have_header = true;
      continue;
    }
    if (row.fields.size() != table.header.size() && options.keep_ragged_rows) {
      table.ragged_rows.push_back(std::move(row));
      continue;
    }
    GCNN_CHECK(row.fields.size() == table.header.size(), "{}:{}: {} fields, but the header has {}", source,
               row.line, row.fields.size(), table.header.size());
    table.rows.push_back(std::move(row));
  }
  GCNN_CHECK(have_header, "{}: empty file, expected a header line", source);
  return table;
}

CsvTable read_csv(const std::filesystem::path& path, CsvParseOptions options) {
  std::ifstream in(path, std::ios::binary);
  GCNN_CHECK(in.good(), "{}: cannot open: {}", path.string(), std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_csv(ss.str(), path.string(), options);
}

std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(',');
    out += csv_escape(fields[i]);
  }
  out.push_back('\n');
  return out;
}

bool parse_finite_double(std::string_view text, double& value) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  namespace fs = std::filesystem;
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  GCNN_CHECK(!ec, "{}: cannot create directory {}: {}", path.string(), dir.string(), ec.message());
  fs::path tmp = dir / fmt::format(".{}.tmp.{}", path.filename().string(), ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    GCNN_CHECK(out.good(), "{}: cannot write temporary file {}: {}", path.string(), tmp.string(),
               std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out.good()) {
      fs::remove(tmp, ec);
      GCNN_FAIL("{}: write failed: {}", path.string(), std::strerror(errno));
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    GCNN_FAIL("{}: cannot rename temporary file into place: {}", path.string(), ec.message());
  }
}

}  // namespace gcnn
