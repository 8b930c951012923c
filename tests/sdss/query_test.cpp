// gcnn query library: SQL compaction, the SqlSearch CSV answer ("#Table1"
// line), server-side SQL errors, objID paging, and the paper preset's SQL;
// against a loopback server that plays the SkyServer SQL search service.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "data/sdss/query.h"
#include "kernels/error.h"
#include "tests/sdss/local_http_server.h"

using gcnn::testing::HttpReply;
using gcnn::testing::HttpRequest;
using gcnn::testing::LocalHttpServer;
using namespace gcnn::sdss;

namespace {

// The integer that follows marker in text, or fallback.
long number_after(const std::string& text, const std::string& marker, long fallback) {
  std::size_t at = text.find(marker);
  return at == std::string::npos ? fallback : std::stol(text.substr(at + marker.size()));
}

// A fake SqlSearch over a table of `rows` galaxies (objID = 1000 + 7 i): honours
// "TOP n" and "objID > x" in the paging SQL, and counts what it was sent.
struct FakeSqlService {
  int rows = 25;
  std::vector<std::string> sql_seen;
  HttpReply operator()(const HttpRequest& r) {
    HttpReply reply;
    reply.content_type = "text/plain";
    EXPECT_EQ(r.path, "/DR16/SkyServerWS/SearchTools/SqlSearch");
    EXPECT_EQ(r.query.at("format"), "csv");
    const std::string& sql = r.query.at("cmd");
    sql_seen.push_back(sql);
    long top = number_after(sql, "TOP ", rows);
    long after = number_after(sql, "objID > ", -1);
    std::string body = "#Table1\nobjID,ra,dec,name\n";
    long sent = 0;
    for (int i = 0; i < rows && sent < top; ++i) {
      long id = 1000 + 7 * i;
      if (id <= after) continue;
      body += std::to_string(id) + "," + std::to_string(10 + i) + ".5,-1.25,\"gal, " + std::to_string(i) + "\"\n";
      ++sent;
    }
    reply.body = body;
    return reply;
  }
};

QueryOptions local_options(const LocalHttpServer& server) {
  QueryOptions o;
  o.base_url = server.base_url();
  o.min_interval_s = 0;
  o.timeout_s = 5;
  o.retry = {2, 0.01, 0.02};
  return o;
}

}  // namespace

TEST(SdssQuery, CompactSqlDropsCommentsKeepsLiterals) {
  EXPECT_EQ(compact_sql("-- header\nSELECT  a,\n\tb -- trailing\nFROM t /* block\ncomment */ WHERE s = 'x -- y'  ;\n"),
            "SELECT a, b FROM t WHERE s = 'x -- y'");
  EXPECT_EQ(compact_sql("SELECT 'it''s' AS \"odd  name\";;"), "SELECT 'it''s' AS \"odd  name\"");
  EXPECT_EQ(sql_search_url("http://h/", "DR16", "SELECT 1"),
            "http://h/DR16/SkyServerWS/SearchTools/SqlSearch?cmd=SELECT+1&format=csv");
}

TEST(SdssQuery, ParsesTheTable1CsvAnswer) {
  gcnn::CsvTable t = parse_sql_search_csv("#Table1\r\nobjID,ra\r\n1237,10.5\r\n1238,11\r\n", "answer");
  ASSERT_EQ(t.header, (std::vector<std::string>{"objID", "ra"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[1].fields[0], "1238");
  EXPECT_EQ(parse_sql_search_csv("objID,ra\n5,6\n", "answer").rows.size(), 1u);  // without the #Table1 line
  auto message = [](const std::string& body) {
    try {
      parse_sql_search_csv(body, "answer");
    } catch (const gcnn::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("<html><title>Runtime Error</title></html>").find("Runtime Error"), std::string::npos);
  EXPECT_NE(message("#Table1\nERROR: Invalid column name 'bogus'.\n").find("Invalid column name 'bogus'"),
            std::string::npos);
  EXPECT_NE(message("").find("no table"), std::string::npos);
}

TEST(SdssQuery, PagesByObjIdUntilAShortPage) {
  FakeSqlService fake;
  LocalHttpServer server([&](const HttpRequest& r) { return fake(r); });
  QueryOptions options = local_options(server);
  options.page_size = 10;
  QueryResult result = run_sql_query("SELECT objID, ra, dec, name FROM Galaxy -- all of them\n;", options);
  ASSERT_EQ(result.rows.size(), 25u);
  EXPECT_EQ(result.requests, 3);
  EXPECT_EQ(result.header, (std::vector<std::string>{"objID", "ra", "dec", "name"}));
  for (std::size_t i = 0; i < result.rows.size(); ++i) EXPECT_EQ(result.rows[i][0], std::to_string(1000 + 7 * i));
  EXPECT_EQ(result.rows[3][3], "gal, 3");
  ASSERT_EQ(fake.sql_seen.size(), 3u);
  EXPECT_EQ(fake.sql_seen[0],
            "SELECT TOP 10 * FROM ( SELECT objID, ra, dec, name FROM Galaxy ) AS gcnn_page ORDER BY gcnn_page.objID");
  EXPECT_NE(fake.sql_seen[1].find("WHERE gcnn_page.objID > 1063"), std::string::npos) << fake.sql_seen[1];

  fake.sql_seen.clear();
  options.limit = 15;
  QueryResult limited = run_sql_query("SELECT objID FROM Galaxy", options);
  EXPECT_EQ(limited.rows.size(), 15u);
  EXPECT_NE(fake.sql_seen.back().find("TOP 5 "), std::string::npos);

  options.page_size = 0;  // one request, SQL sent as given (TOP wrapper for --limit)
  options.limit = 4;
  fake.sql_seen.clear();
  QueryResult single = run_sql_query("SELECT objID FROM Galaxy", options);
  EXPECT_EQ(single.rows.size(), 4u);
  EXPECT_EQ(fake.sql_seen.back(), "SELECT TOP 4 * FROM ( SELECT objID FROM Galaxy ) AS gcnn_all");
}

TEST(SdssQuery, PagingNeedsAnObjIdColumn) {
  LocalHttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.content_type = "text/plain";
    r.body = "#Table1\nra,dec\n1,2\n";
    return r;
  });
  QueryOptions options = local_options(server);
  EXPECT_THROW(run_sql_query("SELECT ra, dec FROM Galaxy", options), gcnn::Error);
  options.page_size = 0;
  EXPECT_EQ(run_sql_query("SELECT ra, dec FROM Galaxy", options).rows.size(), 1u);
}

TEST(SdssQuery, ReportsTheServersSqlErrorWithoutRetrying) {
  LocalHttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.status = 500;
    r.content_type = "text/html";
    r.body = "<html><body><h1>Error</h1><p>Invalid column name 'petroMag_q'.</p></body></html>";
    return r;
  });
  try {
    run_sql_query("SELECT petroMag_q FROM Galaxy", local_options(server));
    FAIL() << "expected an error";
  } catch (const gcnn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("Invalid column name 'petroMag_q'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("HTTP 500"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.requests(), 1);
}

TEST(SdssQuery, RetriesBusyAndThrottledAnswers) {
  FakeSqlService fake;
  LocalHttpServer server([&](const HttpRequest& r) {
    if (r.attempt == 1) {
      HttpReply busy;
      busy.status = 503;
      busy.body = "busy";
      return busy;
    }
    return fake(r);
  });
  QueryResult result = run_sql_query("SELECT objID, ra, dec, name FROM Galaxy", local_options(server));
  EXPECT_EQ(result.rows.size(), 25u);
  EXPECT_EQ(server.requests(), 2);
}

TEST(SdssQuery, PaperPresetSelectsTheIssueColumns) {
  std::ifstream in(std::string(GCNN_SOURCE_DIR) + "/configs/sdss/paper.sql");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string sql = compact_sql(ss.str());
  for (const char* column :
       {"g.objID", "s.specObjID", "g.ra", "g.dec", "s.z", "s.zErr", "s.velDisp", "g.modelMag_u", "g.modelMagErr_z",
        "g.petroR50_r", "g.petroR90_r", "l.h_alpha_flux_err", "l.h_beta_flux", "l.nii_6584_flux",
        "l.oiii_5007_flux", "l.h_delta_flux", "x.d4000", "e.bptclass", "e.oh_p2p5", "e.oh_p16", "e.oh_p50",
        "e.oh_p84", "e.oh_p97p5", "e.lgm_tot_p50", "e.sfr_tot_p50", "s.rChi2 < 2", "e.oh_p50 <> -9999",
        "s.z > 0.02", "s.zErr < 0.01", "JOIN Galaxy AS g ON g.objID = s.bestObjID"})
    EXPECT_NE(sql.find(column), std::string::npos) << column;
  EXPECT_EQ(sql.find("--"), std::string::npos);
  EXPECT_EQ(sql.find("ORDER BY"), std::string::npos);  // paging adds its own
  // Short enough for a URL (ASP.NET's default query-string cap is 2048 characters).
  EXPECT_LT(sql_search_url("https://skyserver.sdss.org", "DR16", sql).size(), 2048u);
}
