// A dataset: a catalog and the decoded images of its rows, row-aligned. Rows
// whose image could not be loaded (with the skip policy) are dropped from the
// catalog too, and every dropped row or image is listed in `problems`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/image.h"

namespace gcnn {

struct DatasetOptions {
  std::string id_column = "objID";
  std::vector<std::string> target_columns;  // empty: unlabelled (predict)
  CatalogOptions catalog;
  ImageLoadOptions images;
};

struct Dataset {
  Catalog catalog;      // row i describes image i
  ImageDataset images;
  std::vector<std::string> problems;  // skipped catalog rows and images

  std::size_t size() const { return catalog.size(); }
};

Dataset load_dataset(const std::filesystem::path& catalog_path, const std::filesystem::path& image_dir,
                     const DatasetOptions& options);

}  // namespace gcnn
