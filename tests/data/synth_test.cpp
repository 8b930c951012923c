// Synthetic galaxies: same seed -> identical bytes, the catalog's columns, and
// the physical relations the generator promises (mass-metallicity, scatter).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/catalog.h"
#include "data/synth.h"

namespace gcnn {
namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Synth, SameSeedGivesIdenticalBytesWhateverTheThreads) {
  auto root = fs::temp_directory_path() / "gcnn_synth_test";
  fs::remove_all(root);
  SynthOptions options;
  options.size = 48;
  options.seed = 7;
  options.threads = 1;
  auto a = write_synthetic_dataset(root / "a", 12, options);
  options.threads = 3;
  write_synthetic_dataset(root / "b", 12, options);
  options.seed = 8;
  write_synthetic_dataset(root / "c", 12, options);

  EXPECT_EQ(slurp(root / "a/catalog.csv"), slurp(root / "b/catalog.csv"));
  EXPECT_NE(slurp(root / "a/catalog.csv"), slurp(root / "c/catalog.csv"));
  for (const auto& g : a) {
    std::string bytes = slurp(root / "a/images" / (g.id + ".jpg"));
    ASSERT_FALSE(bytes.empty()) << g.id;
    EXPECT_EQ(bytes, slurp(root / "b/images" / (g.id + ".jpg"))) << g.id;
  }

  Catalog cat = load_catalog(root / "a/catalog.csv", "objID", {"oh_p50", "lgm_tot_p50", "ra", "dec", "petroR90_r"});
  ASSERT_EQ(cat.size(), 12u);
  for (std::size_t i = 0; i < cat.size(); ++i) {
    EXPECT_EQ(cat.ids[i], a[i].id);
    EXPECT_NEAR(cat.target(i, 0), a[i].oh, 1e-5);
    EXPECT_NEAR(cat.target(i, 1), a[i].log_mass, 1e-5);
    EXPECT_GT(cat.target(i, 4), 0.0f);
  }
  Image img = read_image(root / "a/images" / (a[0].id + ".jpg"));
  EXPECT_EQ(img.width, 48);
  EXPECT_EQ(img.height, 48);
}

TEST(Synth, MassMetallicityRelationWithTenthDexScatter) {
  EXPECT_NEAR(mass_metallicity(10.0), -1.492 + 18.47 - 8.026, 1e-9);
  double sum = 0, sum_sq = 0, mass_sum = 0, oh_sum = 0, cov = 0, mass_sq = 0, oh_sq = 0;
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    SynthGalaxy g = draw_galaxy(3, static_cast<std::size_t>(i));
    ASSERT_GE(g.log_mass, 8.5);
    ASSERT_LE(g.log_mass, 11.4);
    double r = g.oh - mass_metallicity(g.log_mass);
    sum += r;
    sum_sq += r * r;
    mass_sum += g.log_mass;
    oh_sum += g.oh;
    cov += g.log_mass * g.oh;
    mass_sq += g.log_mass * g.log_mass;
    oh_sq += g.oh * g.oh;
    EXPECT_LT(g.r_mag, 17.8);  // SDSS main-sample limit
  }
  double mean = sum / n, sd = std::sqrt(sum_sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(sd, 0.10, 0.01);
  double mm = mass_sum / n, mo = oh_sum / n;
  double corr = (cov / n - mm * mo) / std::sqrt((mass_sq / n - mm * mm) * (oh_sq / n - mo * mo));
  EXPECT_GT(corr, 0.7);  // the image-visible mass carries most of the metallicity
}

TEST(Synth, BiggerMassesAreBulgierAndRedder) {
  double low_bt = 0, high_bt = 0, low_gr = 0, high_gr = 0;
  int low = 0, high = 0;
  for (int i = 0; i < 2000; ++i) {
    SynthGalaxy g = draw_galaxy(5, static_cast<std::size_t>(i));
    if (g.log_mass < 9.5) {
      low_bt += g.bulge_fraction;
      low_gr += g.disk_gr;
      ++low;
    } else if (g.log_mass > 10.7) {
      high_bt += g.bulge_fraction;
      high_gr += g.disk_gr;
      ++high;
    }
  }
  ASSERT_GT(low, 50);
  ASSERT_GT(high, 50);
  EXPECT_GT(high_bt / high, low_bt / low + 0.2);
  EXPECT_GT(high_gr / high, low_gr / low + 0.1);
}

}  // namespace
}  // namespace gcnn
