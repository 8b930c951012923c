// CSV parsing and atomic file writes.
#include "data/csv.h"

#include <fcntl.h>
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
  GCNN_INPUT_CHECK(i >= 0, "{}: missing column '{}' (columns: {})", source, name, fmt::join(header, ", "));
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
          GCNN_INPUT_CHECK(pos < text.size(), "{}:{}: unterminated quoted field", source, start_line);
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
        GCNN_INPUT_CHECK(!quoted_field, "{}:{}: characters after a closing quote", source, line);
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
    GCNN_INPUT_CHECK(row.fields.size() == table.header.size(), "{}:{}: {} fields, but the header has {}", source,
               row.line, row.fields.size(), table.header.size());
    table.rows.push_back(std::move(row));
  }
  GCNN_INPUT_CHECK(have_header, "{}: empty file, expected a header line", source);
  return table;
}

CsvTable read_csv(const std::filesystem::path& path, CsvParseOptions options) {
  std::ifstream in(path, std::ios::binary);
  GCNN_INPUT_CHECK(in.good(), "{}: cannot open: {}", path.string(), std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_csv(ss.str(), path.string(), options);
}

std::string csv_escape(std::string_view field) {
  // A leading byte-order mark is quoted too: unquoted at the start of a file, parse_csv would drop it.
  if (field.find_first_of(",\"\r\n") == std::string_view::npos && !field.starts_with("\xEF\xBB\xBF"))
    return std::string(field);
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

bool parse_finite_float(std::string_view text, float& value) {
  double wide = 0;
  if (!parse_finite_double(text, wide) || !std::isfinite(static_cast<float>(wide))) return false;
  value = static_cast<float>(wide);
  return true;
}

namespace {

// Writes all of content to fd and fsyncs it; false with errno set on failure.
bool write_and_sync(int fd, std::string_view content) {
  for (std::size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return ::fsync(fd) == 0;
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  namespace fs = std::filesystem;
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  GCNN_INPUT_CHECK(!ec, "{}: cannot create directory {}: {}", path.string(), dir.string(), ec.message());
  GCNN_INPUT_CHECK(!fs::is_directory(path, ec), "{}: is a folder; give a file name", path.string());
  fs::path tmp = dir / fmt::format(".{}.tmp.{}", path.filename().string(), ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  GCNN_INPUT_CHECK(fd >= 0, "{}: cannot write temporary file {}: {}", path.string(), tmp.string(),
                   std::strerror(errno));
  const bool written = write_and_sync(fd, content);
  const int write_errno = errno;
  if (::close(fd) != 0 || !written) {
    fs::remove(tmp, ec);
    GCNN_INPUT_FAIL("{}: write failed: {}", path.string(), std::strerror(written ? errno : write_errno));
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    GCNN_INPUT_FAIL("{}: cannot rename temporary file into place: {}", path.string(), ec.message());
  }
  // The rename is durable only once the folder's entry is on disk.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  GCNN_INPUT_CHECK(dir_fd >= 0, "{}: cannot open its folder to sync it: {}", path.string(), std::strerror(errno));
  const bool synced = ::fsync(dir_fd) == 0;
  const int sync_errno = errno;
  ::close(dir_fd);
  GCNN_INPUT_CHECK(synced, "{}: cannot sync its folder {}: {}", path.string(), dir.string(), std::strerror(sync_errno));
}

}  // namespace gcnn
