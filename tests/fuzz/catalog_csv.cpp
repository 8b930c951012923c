// Fuzz target: catalog CSV files (data/csv parse_csv, data/catalog
// catalog_from_table). Invariants: every row has the header's field count
// (ragged rows only where kept, and then of another count) and rows come in
// increasing line order; the table written back with csv_line parses to the
// same table; a catalog (the first column as id, up to four more as targets)
// has unique non-empty ids and finite targets, one per target column, and with
// skip_bad_rows every row is either kept or named in `skipped`.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "data/catalog.h"
#include "data/csv.h"
#include "tests/fuzz/fuzz_support.h"

namespace gcnn::fuzz {
namespace {

void check_catalog(const CsvTable& table, const Catalog& catalog, bool skip_bad_rows) {
  const std::size_t t = catalog.num_targets();
  FUZZ_REQUIRE(catalog.lines.size() == catalog.size() && catalog.targets.size() == catalog.size() * t,
               "{} ids, {} lines, {} targets for {} columns", catalog.size(), catalog.lines.size(),
               catalog.targets.size(), t);
  std::unordered_set<std::string> ids;
  for (std::size_t r = 0; r < catalog.size(); ++r) {
    FUZZ_REQUIRE(!catalog.ids[r].empty() && ids.insert(catalog.ids[r]).second, "row {}: id '{}' empty or repeated", r,
                 catalog.ids[r]);
    for (std::size_t c = 0; c < t; ++c)
      FUZZ_REQUIRE(std::isfinite(catalog.target(r, c)), "line {}: target {} is {}", catalog.lines[r],
                   catalog.target_names[c], catalog.target(r, c));
  }
  const std::size_t rows = table.rows.size() + table.ragged_rows.size();
  if (skip_bad_rows)
    FUZZ_REQUIRE(catalog.size() + catalog.skipped.size() == rows, "{} kept + {} skipped of {} rows", catalog.size(),
                 catalog.skipped.size(), rows);
  else
    FUZZ_REQUIRE(catalog.size() == rows && catalog.skipped.empty(), "{} kept of {} rows without skipping",
                 catalog.size(), rows);
}

}  // namespace

void catalog_csv(std::string_view bytes) {
  CsvParseOptions parse;
  parse.keep_ragged_rows = bytes.size() % 2 == 1;  // both modes, chosen by the input
  const auto table = unless_rejected([&] { return parse_csv(bytes, "fuzz.csv", parse); });
  if (!table) return;
  FUZZ_REQUIRE(!table->header.empty(), "empty header");
  std::size_t previous_line = 0;
  for (const CsvRow& row : table->rows) {
    FUZZ_REQUIRE(row.fields.size() == table->header.size(), "line {}: {} fields, header {}", row.line,
                 row.fields.size(), table->header.size());
    FUZZ_REQUIRE(row.line > previous_line, "line {} after line {}", row.line, previous_line);
    previous_line = row.line;
  }
  FUZZ_REQUIRE(parse.keep_ragged_rows || table->ragged_rows.empty(), "ragged rows kept without keep_ragged_rows");
  for (const CsvRow& row : table->ragged_rows)
    FUZZ_REQUIRE(row.fields.size() != table->header.size(), "line {} kept as ragged with the header's count", row.line);

  std::string text = csv_line(table->header);
  for (const CsvRow& row : table->rows) text += csv_line(row.fields);
  const CsvTable again = must_accept("the table written back", [&] { return parse_csv(text, "rewritten.csv"); });
  FUZZ_REQUIRE(again.header == table->header, "header changed when written back: '{}'", csv_line(again.header));
  FUZZ_REQUIRE(again.rows.size() == table->rows.size(), "{} rows became {}", table->rows.size(), again.rows.size());
  for (std::size_t r = 0; r < again.rows.size(); ++r)
    FUZZ_REQUIRE(again.rows[r].fields == table->rows[r].fields, "row {} changed when written back: '{}'", r,
                 csv_line(again.rows[r].fields));

  const std::string& id_column = table->header[0];
  std::vector<std::string> targets;
  for (std::size_t c = 1; c < table->header.size() && targets.size() < 4; ++c)
    if (table->header[c] != id_column) targets.push_back(table->header[c]);
  for (const bool skip : {false, true}) {
    CatalogOptions options;
    options.skip_bad_rows = skip;
    const auto catalog = skip ? std::optional<Catalog>(must_accept("a catalog with skip_bad_rows", [&] {
                                  return catalog_from_table(*table, id_column, targets, options);
                                }))
                              : unless_rejected([&] { return catalog_from_table(*table, id_column, targets, options); });
    if (catalog) check_catalog(*table, *catalog, skip);
  }
}

}  // namespace gcnn::fuzz

GCNN_FUZZ_TARGET(gcnn::fuzz::catalog_csv)
