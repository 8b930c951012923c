// SkyServer SQL search client: URL building, CSV answer parsing, error
// reporting and objID paging.
#include "data/sdss/query.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>
#include <thread>

#include "kernels/error.h"

namespace gcnn::sdss {

std::string compact_sql(std::string_view sql) {
  std::string out;
  bool pending_space = false;
  auto emit = [&](char c) {
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  };
  for (std::size_t i = 0; i < sql.size();) {
    char c = sql[i];
    if (c == '\'' || c == '"') {  // string literal or quoted identifier: copied verbatim
      char quote = c;
      emit(c);
      ++i;
      while (i < sql.size()) {
        out.push_back(sql[i]);
        if (sql[i] == quote) {
          if (i + 1 < sql.size() && sql[i + 1] == quote) {
            out.push_back(sql[++i]);
          } else {
            ++i;
            break;
          }
        }
        ++i;
      }
      continue;
    }
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
      pending_space = true;
      continue;
    }
    if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      std::size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
      pending_space = true;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending_space = true;
      ++i;
      continue;
    }
    emit(c);
    ++i;
  }
  while (!out.empty() && (out.back() == ';' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string sql_search_url(std::string_view base_url, std::string_view release, std::string_view sql) {
  while (base_url.ends_with('/')) base_url.remove_suffix(1);
  return fmt::format("{}/{}/SkyServerWS/SearchTools/SqlSearch?cmd={}&format=csv", base_url, release,
                     query_encode(sql));
}

namespace {

std::string_view first_line(std::string_view text) {
  std::size_t end = text.find_first_of("\r\n");
  return end == std::string_view::npos ? text : text.substr(0, end);
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

int objid_column(const std::vector<std::string>& header) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i].size() == 5 && starts_with_nocase(header[i], "objID")) return static_cast<int>(i);
  return -1;
}

bool is_integer(std::string_view text) {
  if (text.starts_with('-')) text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

CsvTable parse_sql_search_csv(std::string_view body, const std::string& source) {
  std::string_view text = body;
  while (!text.empty()) {  // leading blank lines and '#' lines such as "#Table1"
    std::string_view line = first_line(text);
    bool blank = std::all_of(line.begin(), line.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
    if (!blank && !line.starts_with('#')) break;
    text.remove_prefix(std::min(text.size(), line.size()));
    while (!text.empty() && (text.front() == '\r' || text.front() == '\n')) text.remove_prefix(1);
  }
  std::string_view head = first_line(text);
  GCNN_CHECK(!text.empty(), "{}: the service returned no table (empty answer)", source);
  GCNN_CHECK(!head.starts_with('<'), "{}: the service returned an HTML page instead of CSV: {}", source,
             summarize_body(body));
  GCNN_CHECK(!starts_with_nocase(head, "error"), "{}: the service reported an error: {}", source,
             summarize_body(text, 500));
  CsvTable table = parse_csv(text, source);
  return table;
}

namespace {

// One request with retries on transport errors and 408/429/502/503/504.
// HTTP 500 and other statuses carry SQL errors: reported at once.
std::string fetch_sql(CurlEasy& easy, const std::string& url, const QueryOptions& options, std::mt19937_64& rng,
                      int& requests) {
  for (int attempt = 1;; ++attempt) {
    easy.prepare_get(url, options.timeout_s, options.connect_timeout_s);
    ++requests;
    HttpResponse& r = easy.perform();
    bool transient = false;
    std::string error;
    if (!r.transport_ok()) {
      transient = is_transient_curl_error(r.curl_code);
      error = fmt::format("{} ({})", r.curl_error, curl_easy_strerror(r.curl_code));
    } else if (r.status == 200) {
      return std::move(r.body);
    } else {
      transient = r.status == 408 || r.status == 429 || (r.status >= 502 && r.status <= 504);
      error = fmt::format("HTTP {}: {}", r.status, summarize_body(r.body, 500));
    }
    if (!transient || attempt > options.retry.retries)
      GCNN_FAIL("SkyServer SQL search rejected the query after {} attempt(s): {} (URL {}...)", attempt, error,
                url.substr(0, 120));
    double delay = retry_delay_s(options.retry, attempt, r.retry_after_s, rng);
    if (options.verbose) fmt::print(stderr, "query: {}; retrying in {:.1f} s\n", error, delay);
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
}

}  // namespace

QueryResult run_sql_query(std::string_view sql_text, const QueryOptions& options) {
  check_base_url(options.base_url);
  GCNN_CHECK(options.limit >= 0 && options.page_size >= 0, "--limit and --page-size must be >= 0");
  std::string sql = compact_sql(sql_text);
  GCNN_CHECK(!sql.empty(), "the SQL text is empty");
  QueryResult result;
  CurlEasy easy;
  std::mt19937_64 rng(std::random_device{}());
  auto last_request = std::chrono::steady_clock::time_point{};
  auto request = [&](const std::string& page_sql, const std::string& what) {
    auto since = std::chrono::steady_clock::now() - last_request;
    auto gap = std::chrono::duration<double>(options.min_interval_s);
    if (result.requests > 0 && since < gap) std::this_thread::sleep_for(gap - since);
    last_request = std::chrono::steady_clock::now();
    std::string url = sql_search_url(options.base_url, options.release, page_sql);
    return parse_sql_search_csv(fetch_sql(easy, url, options, rng, result.requests), what);
  };

  if (options.page_size == 0) {
    std::string one = options.limit > 0
                          ? fmt::format("SELECT TOP {} * FROM ( {} ) AS gcnn_all", options.limit, sql)
                          : sql;
    CsvTable table = request(one, "SkyServer SQL search");
    result.header = std::move(table.header);
    for (CsvRow& row : table.rows) result.rows.push_back(std::move(row.fields));
    if (static_cast<std::int64_t>(result.rows.size()) == kSqlSearchRowLimit)
      fmt::print(stderr, "warning: {} rows is the service's row limit: the result is probably truncated; "
                         "use --page-size\n", kSqlSearchRowLimit);
    return result;
  }

  std::string last_objid;
  for (int page = 1;; ++page) {
    std::int64_t want = options.page_size;
    if (options.limit > 0)
      want = std::min<std::int64_t>(want, options.limit - static_cast<std::int64_t>(result.rows.size()));
    if (want <= 0) break;
    std::string where = last_objid.empty() ? "" : fmt::format(" WHERE gcnn_page.objID > {}", last_objid);
    std::string page_sql = fmt::format("SELECT TOP {} * FROM ( {} ) AS gcnn_page{} ORDER BY gcnn_page.objID",
                                       want, sql, where);
    CsvTable table = request(page_sql, fmt::format("SkyServer SQL search, page {}", page));
    if (page == 1) {
      result.header = table.header;
      GCNN_CHECK(objid_column(result.header) >= 0,
                 "paging by objID needs an objID column in the result (columns: {}); or use --page-size 0",
                 fmt::format("{}", fmt::join(result.header, ", ")));
    }
    GCNN_CHECK(table.header == result.header, "page {} has different columns than page 1", page);
    int id_col = objid_column(result.header);
    for (CsvRow& row : table.rows) {
      const std::string& id = row.fields[id_col];
      GCNN_CHECK(is_integer(id), "{}:{}: objID '{}' is not an integer", table.source, row.line, id);
      result.rows.push_back(std::move(row.fields));
    }
    if (options.verbose)
      fmt::print(stderr, "query: page {}: {} rows ({} in all)\n", page, table.rows.size(), result.rows.size());
    if (static_cast<std::int64_t>(table.rows.size()) < want) break;
    last_objid = result.rows.back()[id_col];
  }
  return result;
}

void write_query_csv(const std::string& path, const QueryResult& result) {
  std::string text = csv_line(result.header);
  for (const auto& row : result.rows) text += csv_line(row);
  write_file_atomic(path, text);
}

}  // namespace gcnn::sdss
