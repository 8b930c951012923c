// Galaxy catalogs: a CSV with an id column (objID by default) and any number of
// numeric target columns (oh_p50, lgm_tot_p50, ...), read into ids and a
// row-major float matrix of targets, with per-row source line numbers kept for
// messages. Bad rows are errors naming file and line, or skipped and counted.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "data/csv.h"

namespace gcnn {

struct CatalogOptions {
  // false: a malformed row, a non-numeric or non-finite target, an empty or
  // duplicate id throws naming file and line. true: such rows are dropped and
  // described in Catalog::skipped.
  bool skip_bad_rows = false;
};

struct Catalog {
  std::string source;                     // file name used in messages
  std::vector<std::string> ids;           // one per row
  std::vector<std::string> target_names;  // T names (may be empty: unlabelled catalog)
  std::vector<float> targets;             // row-major [rows, T]
  std::vector<std::size_t> lines;         // 1-based source line of each row
  std::vector<std::string> skipped;       // "file:line: reason" for each dropped row

  std::size_t size() const { return ids.size(); }
  std::size_t num_targets() const { return target_names.size(); }
  float target(std::size_t row, std::size_t t) const { return targets[row * target_names.size() + t]; }
  // Catalog of the given rows, in that order (e.g. those whose images loaded).
  Catalog subset(const std::vector<std::size_t>& rows) const;
};

// Builds a catalog from a parsed table (exposed for tests and in-memory data).
Catalog catalog_from_table(const CsvTable& table, const std::string& id_column,
                           const std::vector<std::string>& target_columns, CatalogOptions options = {});
// Reads path. Columns other than the id and targets are ignored.
Catalog load_catalog(const std::filesystem::path& path, const std::string& id_column = "objID",
                     const std::vector<std::string>& target_columns = {}, CatalogOptions options = {});

}  // namespace gcnn
