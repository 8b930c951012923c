// gcnn query: runs SQL (a file, or a preset such as the paper's sample in
// configs/sdss/paper.sql) against the SDSS SkyServer SQL search service and
// writes the result as a catalog CSV.
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/command.h"
#include "data/sdss/query.h"
#include "kernels/error.h"

namespace {
namespace fs = std::filesystem;

// configs/sdss/<name>.sql from $GCNN_CONFIG_DIR, the working directory, or
// next to the executable (build trees sit one level below the repository).
fs::path find_preset(const std::string& name) {
  std::vector<fs::path> roots;
  if (const char* dir = std::getenv("GCNN_CONFIG_DIR")) roots.emplace_back(dir);
  roots.emplace_back("configs");
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    roots.push_back(exe.parent_path() / "configs");
    roots.push_back(exe.parent_path().parent_path() / "configs");
  }
  for (const fs::path& root : roots) {
    fs::path candidate = root / "sdss" / (name + ".sql");
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  GCNN_INPUT_FAIL("--preset {}: no configs/sdss/{}.sql found (set GCNN_CONFIG_DIR to the configs folder)", name, name);
}

std::string read_text(const fs::path& path) {
  std::error_code ec;
  GCNN_INPUT_CHECK(fs::is_regular_file(path, ec), "--sql {}: no such file", path.string());
  std::ifstream in(path, std::ios::binary);
  GCNN_INPUT_CHECK(in.good(), "--sql {}: cannot read the SQL file", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct QueryArgs {
  std::string sql_file, preset, out;
  gcnn::sdss::QueryOptions options;
};

int run_query(QueryArgs& args) {
  GCNN_INPUT_CHECK(args.sql_file.empty() != args.preset.empty(), "give exactly one of --sql FILE or --preset NAME");
  fs::path sql_path = args.sql_file.empty() ? find_preset(args.preset) : fs::path(args.sql_file);
  gcnn::sdss::QueryResult result = gcnn::sdss::run_sql_query(read_text(sql_path), args.options);
  gcnn::sdss::write_query_csv(args.out, result);
  fmt::print("{}: {} rows, {} columns from {} ({} request(s))\n", args.out, result.rows.size(),
             result.header.size(), sql_path.string(), result.requests);
  if (result.rows.empty()) fmt::print(stderr, "warning: the query returned no rows\n");
  return 0;
}

GCNN_COMMAND("query", "Run SQL on the SDSS SkyServer and write the result as a catalog CSV", [](CLI::App& cmd) {
  auto args = std::make_shared<QueryArgs>();
  auto* sql = cmd.add_option("--sql", args->sql_file, "File with the SQL to run");
  auto* preset = cmd.add_option("--preset", args->preset, "Built-in query: paper (configs/sdss/paper.sql)");
  sql->excludes(preset);
  cmd.add_option("--out", args->out, "Output catalog CSV")->required();
  cmd.add_option("--release", args->options.release, "SDSS data release")->capture_default_str();
  cmd.add_option("--limit", args->options.limit, "At most this many rows (0: all)")->capture_default_str();
  cmd.add_option("--page-size", args->options.page_size,
                 "Rows per request, paging by objID (0: one request with the SQL as given; the service "
                 "caps one request at 500000 rows)")
      ->capture_default_str();
  cmd.add_option("--base-url", args->options.base_url, "SkyServer root URL")->capture_default_str();
  cmd.add_option("--timeout", args->options.timeout_s, "Seconds per request")->capture_default_str();
  cmd.add_option("--retries", args->options.retry.retries, "Retries on 429/502/503/504 and connection errors")
      ->capture_default_str();
  cmd.add_option("--min-interval", args->options.min_interval_s,
                 "Seconds between requests (the service allows 60 queries per minute)")
      ->capture_default_str();
  cmd.add_flag("--verbose", args->options.verbose, "One line per page on stderr");
  return [args] { return run_query(*args); };
});

}  // namespace
