// gcnn predict beyond one plain pass: dihedral TTA equals the mean of plain
// predictions of images transformed by hand, an ensemble equals the mean of
// its members (spread = their population std), members must agree on
// targets, fastai TTA is seeded, a folder without a catalog predicts every
// image, rows without an image are listed with the reason, and the CSV reads
// back as written, and a ResNet predicts the same through the fused body as
// layer by layer.
#include "train/predict.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <unistd.h>

#include "data/augment.h"
#include "data/csv.h"
#include "data/image.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/winograd.h"
#include "kernels/error.h"
#include "layers/safetensors.h"
#include "tests/support/tiny_experiment.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;

const std::string kTiny = test::tiny_experiment("tiny", 40, 3);

class PredictTest : public ::testing::Test {
 protected:
  // Two members trained once for the suite (different seeds, same data), in a
  // folder of this process: ctest runs each test of the suite as its own
  // process, several at once.
  static void SetUpTestSuite() {
    root = fs::temp_directory_path() / ("gcnn_predict_test_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
    TrainOptions quiet;
    quiet.progress = false;
    for (const char* name : {"a", "b"})
      train_experiment(parse_config(kTiny, "tiny.yaml", root,
                                    {"runs_dir=" + root.string(), std::string("name=") + name,
                                     std::string("seed=") + (name[0] == 'a' ? "1" : "2")}),
                       quiet);
    catalog = root / "a" / "synthetic" / "catalog.csv";
    images = root / "a" / "synthetic" / "images";
  }
  static void TearDownTestSuite() { fs::remove_all(root); }

  static PredictOptions options(std::vector<fs::path> checkpoints, const fs::path& out) {
    PredictOptions o;
    o.checkpoints = std::move(checkpoints);
    o.catalog = catalog;
    o.images = images;
    o.device = "cpu";
    o.batch_size = 7;  // batches that do not divide the catalog
    o.out = root / out;
    return o;
  }

  // id -> (pred, std) of the first target.
  static std::map<std::string, std::pair<double, double>> by_id(const fs::path& csv) {
    PredictionTable t = read_predictions(csv);
    std::map<std::string, std::pair<double, double>> m;
    for (std::size_t i = 0; i < t.ids.size(); ++i) m[t.ids[i]] = {t.pred[0][i], t.spread[0][i]};
    return m;
  }

  static inline fs::path root, catalog, images;
};

TEST_F(PredictTest, DihedralTtaIsTheMeanOfPlainPredictionsOfTransformedImages) {
  // The 8 transforms of every image, written losslessly by hand, predicted plainly from folders without a catalog.
  std::vector<std::map<std::string, std::pair<double, double>>> views;
  for (int k = 0; k < 8; ++k) {
    const fs::path dir = root / ("dihedral" + std::to_string(k));
    fs::create_directories(dir);
    for (const auto& entry : fs::directory_iterator(images)) {
      const std::string bytes = encode_png(dihedral(read_image(entry.path()), k));
      std::ofstream(dir / (entry.path().stem().string() + ".png"), std::ios::binary) << bytes;
    }
    PredictOptions o = options({root / "a"}, "plain" + std::to_string(k) + ".csv");
    o.catalog.clear();
    o.images = dir;
    PredictResult r = predict(o);
    EXPECT_EQ(r.rows, 40u);
    EXPECT_FALSE(r.has_truth);
    views.push_back(by_id(r.out));
  }
  PredictOptions o = options({root / "a"}, "tta.csv");
  o.tta = Tta::dihedral;
  PredictResult r = predict(o);
  EXPECT_EQ(r.views, 8);
  const auto tta = by_id(r.out);
  ASSERT_EQ(tta.size(), 40u);
  double largest_spread = 0;
  for (const auto& [id, value] : tta) {
    double mean = 0, sq = 0;
    for (const auto& v : views) mean += v.at(id).first / 8;
    for (const auto& v : views) sq += (v.at(id).first - mean) * (v.at(id).first - mean) / 8;
    EXPECT_NEAR(value.first, mean, 2e-5) << id;
    EXPECT_NEAR(value.second, std::sqrt(sq), 2e-5) << id;
    largest_spread = std::max(largest_spread, value.second);
  }
  EXPECT_GT(largest_spread, 1e-4) << "the transforms should change some prediction";
}

TEST_F(PredictTest, AnEnsembleIsTheMeanOfItsMembers) {
  const auto a = by_id(predict(options({root / "a"}, "member_a.csv")).out);
  const auto b = by_id(predict(options({root / "b" / "best.safetensors"}, "member_b.csv")).out);
  PredictResult r = predict(options({root / "a", root / "b" / "best.safetensors"}, "ensemble.csv"));
  EXPECT_EQ(r.members, 2);
  const auto both = by_id(r.out);
  ASSERT_EQ(both.size(), a.size());
  for (const auto& [id, value] : both) {
    EXPECT_EQ(a.at(id).second, 0.0) << "one member, one view: no spread";
    EXPECT_NEAR(value.first, (a.at(id).first + b.at(id).first) / 2, 2e-6) << id;
    EXPECT_NEAR(value.second, std::abs(a.at(id).first - b.at(id).first) / 2, 2e-6) << id;
  }
}

TEST_F(PredictTest, MembersMustAgreeOnTargets) {
  const fs::path other = root / "other.safetensors";
  Safetensors st = read_safetensors(root / "b" / "best.safetensors");
  st.metadata["gcnn.targets"] = "lgm_tot_p50";
  write_safetensors(other, st.tensors, st.metadata);
  try {
    predict(options({root / "a", other}, "disagree.csv"));
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("ensemble members disagree on targets"), std::string::npos) << what;
    EXPECT_NE(what.find("other.safetensors predicts [lgm_tot_p50]"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(root / "disagree.csv"));
}

TEST_F(PredictTest, FastaiTtaIsSeededAndAveragesFiveViews) {
  PredictOptions o = options({root / "a"}, "fastai1.csv");
  o.tta = Tta::fastai;
  o.tta_seed = 4;
  PredictResult r = predict(o);
  EXPECT_EQ(r.views, 5);
  const auto first = by_id(r.out);
  o.out = root / "fastai2.csv";
  const auto again = by_id(predict(o).out);
  o.out = root / "fastai3.csv";
  o.tta_seed = 5;
  const auto other_seed = by_id(predict(o).out);
  const auto plain = by_id(predict(options({root / "a"}, "fastai_plain.csv")).out);
  int differs = 0;
  for (const auto& [id, value] : first) {
    EXPECT_EQ(value, again.at(id)) << id;
    differs += value.first != other_seed.at(id).first;
    // The plain view is one of the five: the mean is within 2 spreads of it (|x - mean| <= 2 std for 5 values).
    EXPECT_LE(std::abs(plain.at(id).first - value.first), 2 * value.second + 2e-6) << id;
  }
  EXPECT_GT(differs, 0);
}

TEST_F(PredictTest, RowsWithoutAGoodImageAreListedAndTheRestPredicted) {
  const fs::path dir = root / "some_images";
  fs::create_directories(dir);
  const CsvTable all = read_csv(catalog);
  std::string csv = "objID,oh_p50\n";
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string id = all.rows[i].fields[0];
    fs::copy_file(images / (id + ".jpg"), dir / (id + ".jpg"), fs::copy_options::overwrite_existing);
    csv += id + "," + (i == 1 ? "" : all.rows[i].fields[1]) + "\n";  // row 1 has no true value
  }
  { std::ofstream(dir / "broken.jpg") << "not a jpeg"; }
  csv += "absent,8.5\nbroken,8.6\n";
  const fs::path small = root / "partial.csv";
  { std::ofstream(small) << csv; }
  PredictOptions o = options({root / "a"}, "partial_predictions.csv");
  o.catalog = small;
  o.images = dir;
  PredictResult r = predict(o);
  EXPECT_EQ(r.rows, 3u);
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_NE(r.problems[0].find("absent: missing image"), std::string::npos) << r.problems[0];
  EXPECT_NE(r.problems[1].find("broken.jpg"), std::string::npos) << r.problems[1];
  PredictionTable t = read_predictions(r.out);
  ASSERT_EQ(t.ids.size(), 3u);
  EXPECT_TRUE(std::isnan(t.truth[0][1]));
  EXPECT_FALSE(std::isnan(t.pred[0][1]));
  EXPECT_NEAR(t.truth[0][0], std::stod(all.rows[0].fields[1]), 1e-6);
}

TEST_F(PredictTest, TheCsvReadsBackAsWritten) {
  PredictResult r = predict(options({root / "a"}, "roundtrip.csv"));
  PredictionTable t = read_predictions(r.out);
  const CsvTable cat = read_csv(catalog);
  ASSERT_EQ(t.ids.size(), cat.rows.size());
  EXPECT_EQ(t.id_column, "objID");
  EXPECT_EQ(t.targets, std::vector<std::string>{"oh_p50"});
  std::vector<float> pred, truth;
  for (std::size_t i = 0; i < t.ids.size(); ++i) {
    EXPECT_EQ(t.ids[i], cat.rows[i].fields[0]);
    EXPECT_NEAR(t.truth[0][i], std::stod(cat.rows[i].fields[1]), 1e-6);
    pred.push_back(static_cast<float>(t.pred[0][i]));
    truth.push_back(static_cast<float>(t.truth[0][i]));
  }
  EXPECT_NEAR(rmse(pred, truth), r.rmse[0], 1e-5);

  const fs::path bad = root / "bad_predictions.csv";
  { std::ofstream(bad) << "objID,oh_p50,pred_oh_p50\n1,8.5,8.4\n2,8.6,oops\n"; }
  try {
    read_predictions(bad);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad_predictions.csv:3: column 'pred_oh_p50': 'oops'"), std::string::npos)
        << e.what();
  }
}

TEST_F(PredictTest, AResNetPredictsThroughTheFusedBodyAsLayerByLayer) {
  if (cpu::onednn_conv_channel_block() == 0)
    GTEST_SKIP() << "oneDNN runs on " << cpu::onednn_isa() << ": no fused body below AVX2";
  std::string yaml = kTiny;
  const std::string plain = "preset: plain_cnn\n  channels: [4, 8]";
  ASSERT_NE(yaml.find(plain), std::string::npos);
  yaml.replace(yaml.find(plain), plain.size(), "preset: resnet18\n  width: 4");
  TrainOptions quiet;
  quiet.progress = false;
  train_experiment(parse_config(yaml, "tiny-resnet.yaml", root, {"runs_dir=" + root.string(), "name=resnet"}), quiet);
  PredictOptions o = options({root / "resnet"}, "fused.csv");
  const PredictResult fused = predict(o);
  const std::string winograd = cpu::WinogradConv3x3::available() && cpu::onednn_conv_channel_block() == 8
                                   ? ", 3x3 convolutions by Winograd F(2x2, 3x3)"
                                   : "";
  EXPECT_EQ(fused.forward, "fp32, fused ResNet body (batch norms folded, oneDNN layouts kept" + winograd + ")");
  o.layer_by_layer = true;
  o.out = root / "layers.csv";
  const PredictResult layers = predict(o);
  EXPECT_EQ(layers.forward, "fp32, layer by layer (--layer-by-layer)");
  const auto a = by_id(fused.out), b = by_id(layers.out);
  ASSERT_EQ(a.size(), 40u);
  double spread = 0;
  for (const auto& [id, value] : a) {
    EXPECT_NEAR(value.first, b.at(id).first, 1e-5) << id;
    spread = std::max(spread, std::fabs(value.first - a.begin()->second.first));
  }
  EXPECT_GT(spread, 1e-4) << "the images should get different predictions";
  // The plain CNN has no ResNet body: it runs layer by layer and says why.
  EXPECT_EQ(predict(options({root / "a"}, "plain.csv")).forward, "fp32, layer by layer (not a ResNet)");
}

}  // namespace
}  // namespace gcnn::train
