// CSV reading and writing (RFC 4180: quoted fields, "" escapes, CRLF or LF
// line ends) with line numbers kept for error messages, and atomic writes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gcnn {

struct CsvRow {
  std::size_t line = 0;  // 1-based line number where the row starts
  std::vector<std::string> fields;
};

struct CsvTable {
  std::string source;  // file name used in messages
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
  // Rows whose field count differs from the header's; filled only when parsed
  // with CsvParseOptions::keep_ragged_rows (otherwise such a row is an error).
  std::vector<CsvRow> ragged_rows;

  // Index of a header column, or -1.
  int column(std::string_view name) const;
  // Index of a header column; throws naming the file and the columns present.
  int require_column(std::string_view name) const;
};

struct CsvParseOptions {
  bool keep_ragged_rows = false;  // collect wrong-length rows in ragged_rows instead of throwing
};

// Parses CSV text. The first record is the header; blank lines are skipped.
// Throws gcnn::Error naming source and line for an unterminated quote or (unless
// options.keep_ragged_rows) a row whose field count differs from the header's.
CsvTable parse_csv(std::string_view text, const std::string& source, CsvParseOptions options = {});
// Reads and parses a file; throws naming the path if it cannot be read.
CsvTable read_csv(const std::filesystem::path& path, CsvParseOptions options = {});

// Quotes a field when it holds a comma, quote, CR or LF.
std::string csv_escape(std::string_view field);
std::string csv_line(const std::vector<std::string>& fields);  // ends with '\n'

// Parses a whole field as a finite double; false if it is not one.
bool parse_finite_double(std::string_view text, double& value);
// The same for a float: false also when the number is beyond float's range
// (about 3.4e38), where it would become infinite.
bool parse_finite_float(std::string_view text, float& value);

// Writes content to path through a temporary file in the same directory,
// fsynced before the rename and with the folder fsynced after it, so readers
// never see a partial file and a crash leaves the old or the new content.
// Throws naming the path.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace gcnn
