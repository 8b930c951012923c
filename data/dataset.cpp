// Loading a catalog together with its images.
#include "data/dataset.h"

namespace gcnn {

Dataset load_dataset(const std::filesystem::path& catalog_path, const std::filesystem::path& image_dir,
                     const DatasetOptions& options) {
  Catalog catalog = load_catalog(catalog_path, options.id_column, options.target_columns, options.catalog);
  LoadedImages loaded = load_images(image_dir, catalog.ids, options.images);
  Dataset ds;
  ds.problems = catalog.skipped;
  ds.problems.insert(ds.problems.end(), loaded.problems.begin(), loaded.problems.end());
  ds.catalog = loaded.kept.size() == catalog.size() ? std::move(catalog) : catalog.subset(loaded.kept);
  ds.images = std::move(loaded.images);
  return ds;
}

}  // namespace gcnn
