// Fuzz target: the SkyServer SQL search client's text handling (data/sdss
// query): the CSV answer (parse_sql_search_csv), the SQL text the user gives
// (compact_sql, sql_search_url) and error bodies (summarize_body). Invariants:
// an answer that parses is a table whose rows have the header's field count;
// compact_sql is idempotent and leaves no leading, trailing or doubled space
// and no trailing ';' outside literals; the URL holds only URL-safe characters;
// a body summary is printable, tag-free and at most max_chars + "...".
#include <algorithm>
#include <cctype>

#include "data/sdss/http.h"
#include "data/sdss/query.h"
#include "tests/fuzz/fuzz_support.h"

namespace gcnn::fuzz {

void sdss_query(std::string_view bytes) {
  const auto table = unless_rejected([&] { return sdss::parse_sql_search_csv(bytes, "SkyServer SQL search"); });
  if (table) {
    FUZZ_REQUIRE(!table->header.empty(), "empty header");
    for (const CsvRow& row : table->rows)
      FUZZ_REQUIRE(row.fields.size() == table->header.size(), "line {}: {} fields, header {}", row.line,
                   row.fields.size(), table->header.size());
  }

  const std::string sql = sdss::compact_sql(bytes);
  FUZZ_REQUIRE(sdss::compact_sql(sql) == sql, "compact_sql not idempotent: '{}' became '{}'", sql,
               sdss::compact_sql(sql));
  FUZZ_REQUIRE(sql.empty() || (sql.front() != ' ' && sql.back() != ' '), "'{}' has an outer space", sql);
  const std::string url = sdss::sql_search_url("https://skyserver.sdss.org/", "DR16", sql);
  const std::string_view prefix = "https://skyserver.sdss.org/DR16/SkyServerWS/SearchTools/SqlSearch?cmd=";
  FUZZ_REQUIRE(url.starts_with(prefix) && url.ends_with("&format=csv"), "url '{}'", url);
  const std::string_view query(url.data() + prefix.size(), url.size() - prefix.size() - 11);
  FUZZ_REQUIRE(std::all_of(query.begin(), query.end(),
                           [](char c) {
                             return std::isalnum(static_cast<unsigned char>(c)) ||
                                    std::string_view("-._~,()*!':/@+%").find(c) != std::string_view::npos;
                           }),
               "unsafe character in the encoded SQL '{}'", query);

  const std::string summary = sdss::summarize_body(bytes, 80);
  FUZZ_REQUIRE(summary.size() <= 83, "summary of {} characters", summary.size());
  FUZZ_REQUIRE(std::all_of(summary.begin(), summary.end(),
                           [](char c) { return std::isprint(static_cast<unsigned char>(c)) && c != '<'; }),
               "summary '{}' holds a tag or an unprintable character", summary);
  FUZZ_REQUIRE(summary.find("  ") == std::string::npos, "summary '{}' holds a doubled space", summary);
}

}  // namespace gcnn::fuzz

GCNN_FUZZ_TARGET(gcnn::fuzz::sdss_query)
