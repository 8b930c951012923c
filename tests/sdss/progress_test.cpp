// Progress line formatting (counts, rate, ETA) and the small HTTP helpers
// (query-string encoding, error-body summaries).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "data/sdss/http.h"
#include "data/sdss/progress.h"

using namespace gcnn::sdss;

TEST(SdssProgress, FormatsCountsRateAndEta) {
  EXPECT_EQ(format_duration(5), "5s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "?");
  ProgressCounts c{100, 40, 2, 3};
  EXPECT_EQ(format_progress_line(c, 2.0, false), "40/100 done, 2 failed, 58 remaining, 3 retrying, 2.0/s, ETA 29s");
  EXPECT_EQ(format_progress_line({10, 10, 0, 0}, -1, false), "10/10 done, 0 failed, 0 remaining, ?/s, ETA 0s");
  EXPECT_EQ(format_progress_line({4, 1, 1, 0}, -1, true),
            "[############............] 1/4 done, 1 failed, 2 remaining, ?/s, ETA ?");
}

TEST(SdssProgress, PlainOutputIsOneLinePerUpdate) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ProgressBar bar(file, /*interactive=*/false, /*plain_interval_s=*/3600);
  bar.update({5, 1, 0, 0});
  bar.update({5, 2, 0, 0});  // within the interval: not printed
  bar.finish({5, 5, 0, 0});
  std::rewind(file);
  char buffer[512] = {};
  std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  std::string text(buffer, n);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_NE(text.find("1/5 done"), std::string::npos);
  EXPECT_NE(text.find("5/5 done"), std::string::npos);
}

TEST(SdssHttp, QueryEncodingAndBodySummaries) {
  EXPECT_EQ(query_encode("SELECT a, b FROM t WHERE x >= 'y' AND z < 1e-3"),
            "SELECT+a,+b+FROM+t+WHERE+x+%3E%3D+'y'+AND+z+%3C+1e-3");
  EXPECT_EQ(query_encode("a&b=c+d#e%"), "a%26b%3Dc%2Bd%23e%25");
  EXPECT_EQ(summarize_body("<html><head><title> Runtime\n Error </title></head><body>x</body></html>"),
            "Runtime Error");
  EXPECT_EQ(summarize_body("<p>Invalid   column</p>\n<p>name</p>"), "Invalid column name");
  EXPECT_EQ(summarize_body(std::string(50, 'x'), 10), "xxxxxxxxxx...");
}
