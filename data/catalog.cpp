// Catalog loading: id and target columns of a CSV, validated row by row.
#include "data/catalog.h"

#include <unordered_map>

#include "kernels/error.h"

namespace gcnn {

Catalog Catalog::subset(const std::vector<std::size_t>& rows) const {
  Catalog out;
  out.source = source;
  out.target_names = target_names;
  out.skipped = skipped;
  const std::size_t t = target_names.size();
  for (std::size_t r : rows) {
    GCNN_CHECK(r < ids.size(), "{}: subset row {} out of range (catalog has {} rows)", source, r, ids.size());
    out.ids.push_back(ids[r]);
    out.lines.push_back(lines[r]);
    out.targets.insert(out.targets.end(), targets.begin() + static_cast<std::ptrdiff_t>(r * t),
                       targets.begin() + static_cast<std::ptrdiff_t>((r + 1) * t));
  }
  return out;
}

Catalog catalog_from_table(const CsvTable& table, const std::string& id_column,
                           const std::vector<std::string>& target_columns, CatalogOptions options) {
  Catalog cat;
  cat.source = table.source;
  cat.target_names = target_columns;
  const int id_col = table.require_column(id_column);
  std::vector<int> target_cols;
  for (const auto& name : target_columns) target_cols.push_back(table.require_column(name));

  auto reject = [&](std::size_t line, const std::string& reason) {
    std::string message = fmt::format("{}:{}: {}", table.source, line, reason);
    if (!options.skip_bad_rows) GCNN_INPUT_FAIL("{}", message);
    cat.skipped.push_back(std::move(message));
  };
  for (const CsvRow& row : table.ragged_rows)
    reject(row.line, fmt::format("{} fields, but the header has {}", row.fields.size(), table.header.size()));

  std::unordered_map<std::string, std::size_t> first_line;  // id -> line of its first row
  std::vector<float> values(target_cols.size());
  for (const CsvRow& row : table.rows) {
    const std::string& id = row.fields[static_cast<std::size_t>(id_col)];
    if (id.empty()) {
      reject(row.line, fmt::format("empty {}", id_column));
      continue;
    }
    bool ok = true;
    for (std::size_t t = 0; t < target_cols.size() && ok; ++t) {
      const std::string& field = row.fields[static_cast<std::size_t>(target_cols[t])];
      if (!parse_finite_float(field, values[t])) {
        reject(row.line, fmt::format("{} '{}' is not a finite number within the float range", target_columns[t], field));
        ok = false;
      }
    }
    if (!ok) continue;
    auto [it, inserted] = first_line.emplace(id, row.line);
    if (!inserted) {
      reject(row.line, fmt::format("duplicate {} {} (first on line {})", id_column, id, it->second));
      continue;
    }
    cat.ids.push_back(id);
    cat.lines.push_back(row.line);
    cat.targets.insert(cat.targets.end(), values.begin(), values.end());
  }
  return cat;
}

Catalog load_catalog(const std::filesystem::path& path, const std::string& id_column,
                     const std::vector<std::string>& target_columns, CatalogOptions options) {
  CsvParseOptions parse;
  parse.keep_ragged_rows = options.skip_bad_rows;
  return catalog_from_table(read_csv(path, parse), id_column, target_columns, options);
}

}  // namespace gcnn
