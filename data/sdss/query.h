// SDSS catalog queries through the SkyServer SQL search web service:
//   GET <base>/<release>/SkyServerWS/SearchTools/SqlSearch?cmd=<SQL>&format=csv
// (the documented REST resource; SciServer's SciScript client builds the same
// URL). The CSV answer starts with a "#Table1" line before the header.
//
// Row limit: the public SQL search is capped (the SkyServer "query limits"
// page gives 500,000 rows and a 600 s timeout per query since DR8, and 60
// queries per minute per client). Large results are fetched in pages ordered
// by objID: each page is
//   SELECT TOP <page> * FROM (<your SQL>) AS gcnn_page
//   WHERE gcnn_page.objID > <last objID> ORDER BY gcnn_page.objID
// so the SQL must return a column named objID and must not end with ORDER BY.
// Pages are at least min_interval_s apart to stay under the query rate limit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/csv.h"
#include "data/sdss/http.h"

namespace gcnn::sdss {

// Row cap of one SQL search request on the public service.
inline constexpr std::int64_t kSqlSearchRowLimit = 500000;

struct QueryOptions {
  std::string base_url = "https://skyserver.sdss.org";
  std::string release = "DR16";
  std::int64_t limit = 0;          // total rows wanted (0: all)
  std::int64_t page_size = 50000;  // rows per request (0: send the SQL unchanged, one request)
  double timeout_s = 660;          // per request: the service's own limit is 600 s
  double connect_timeout_s = 30;
  double min_interval_s = 1.0;     // between requests
  RetryPolicy retry{3, 2.0, 30.0};  // for 408/429/5xx other than SQL errors, and transport errors
  bool verbose = false;             // one line per page on stderr
};

struct QueryResult {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int requests = 0;
};

// Removes -- and /* */ comments (outside string literals) and collapses
// whitespace, so the SQL fits in a URL; strips a trailing ';'.
std::string compact_sql(std::string_view sql);

// <base>/<release>/SkyServerWS/SearchTools/SqlSearch?cmd=<encoded>&format=csv
std::string sql_search_url(std::string_view base_url, std::string_view release, std::string_view sql);

// Parses one SqlSearch CSV answer: drops the leading "#Table1" line (and any
// other leading '#' lines); throws with the service's message when the body
// is an error page (HTML, or text starting with "Error") instead of CSV.
CsvTable parse_sql_search_csv(std::string_view body, const std::string& source);

// Runs sql (paged as described above when options.page_size > 0). Throws
// gcnn::Error with the server's message when the query is rejected.
QueryResult run_sql_query(std::string_view sql, const QueryOptions& options);

// Writes the result as a CSV file (atomically).
void write_query_csv(const std::string& path, const QueryResult& result);

}  // namespace gcnn::sdss
