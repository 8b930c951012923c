// Image decoding: JPEG pixels bit-identical to PIL's (a fixture PIL made),
// PNG variants against the pixels their hand-written fixture encodes, errors (truncated JPEG, text named .jpg, grayscale PNG and JPEG, missing
// file) under both policies, and resizing against hand-computed values.
#include <gtest/gtest.h>

#include <stb_image_write.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "data/image.h"
#include "kernels/error.h"

namespace gcnn {
namespace {
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / "gcnn_image_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_bytes(const fs::path& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

Image gradient(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.at(y, x, 0) = static_cast<std::uint8_t>(x * 255 / std::max(1, w - 1));
      img.at(y, x, 1) = static_cast<std::uint8_t>(y * 255 / std::max(1, h - 1));
      img.at(y, x, 2) = 128;
    }
  return img;
}

// A one-channel image with the given values, replicated into RGB.
Image gray(int w, int h, const std::vector<int>& values) {
  Image img(w, h);
  for (int i = 0; i < w * h; ++i)
    for (int c = 0; c < 3; ++c) img.pixels[static_cast<std::size_t>(i) * 3 + c] = static_cast<std::uint8_t>(values[i]);
  return img;
}
std::vector<int> channel0(const Image& img) {
  std::vector<int> v;
  for (std::size_t i = 0; i < img.pixels.size(); i += 3) v.push_back(img.pixels[i]);
  return v;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string grayscale_png() {
  std::string out;
  std::vector<std::uint8_t> px(16 * 16, 100);
  stbi_write_png_to_func([](void* ctx, void* d, int n) { static_cast<std::string*>(ctx)->append(static_cast<char*>(d), n); },
                         &out, 16, 16, 1, px.data(), 16);
  return out;
}

TEST(ImageDecode, PngRoundTripsExactlyAndJpegClosely) {
  Image img = gradient(20, 12);
  Image png = decode_image(encode_png(img), "mem.png");
  EXPECT_EQ(png.width, 20);
  EXPECT_EQ(png.height, 12);
  EXPECT_EQ(png.pixels, img.pixels);
  Image jpg = decode_image(encode_jpeg(img, 95), "mem.jpg");
  ASSERT_EQ(jpg.pixels.size(), img.pixels.size());
  for (std::size_t i = 0; i < img.pixels.size(); ++i) EXPECT_NEAR(jpg.pixels[i], img.pixels[i], 12) << i;
}

// tests/fixtures/jpeg_decode/make_fixture.py wrote two JPEGs (4:2:0 and 4:4:4
// chroma, 45x27 px) and the RGB bytes PIL decodes from them; stb_image's
// decoder differs from those in 264 and 57 of the 3645 values.
TEST(ImageDecode, JpegPixelsAreBitIdenticalToPil) {
  const fs::path dir = fs::path(GCNN_SOURCE_DIR) / "tests/fixtures/jpeg_decode";
  for (const std::string name : {"galaxy420", "galaxy444"}) {
    const Image img = read_image(dir / (name + ".jpg"));
    std::ifstream in(dir / (name + ".pil.rgb"), std::ios::binary);
    const std::vector<std::uint8_t> pil((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_EQ(img.width, 45);
    ASSERT_EQ(img.height, 27);
    ASSERT_EQ(img.pixels.size(), pil.size());
    std::size_t differing = 0;
    for (std::size_t i = 0; i < pil.size(); ++i) differing += img.pixels[i] != pil[i];
    EXPECT_EQ(differing, 0u) << name << ": values that differ from PIL's decode";
  }
}

// tests/fixtures/png_decode/make_fixture.py wrote PNGs chunk by chunk with the
// pixels each encodes: 16-bit RGB (scaled to 8 bits), a palette, the Up row
// filter, and an empty IDAT chunk before the data (stb_image, the decoder
// before libpng, did pointer arithmetic on a null buffer there: found by fuzzing).
TEST(ImageDecode, PngVariantsDecodeToTheirEncodedPixels) {
  const fs::path dir = fs::path(GCNN_SOURCE_DIR) / "tests/fixtures/png_decode";
  for (const std::string name : {"rgb16", "palette", "rgb8_up", "empty_idat"}) {
    const Image img = read_image(dir / (name + ".png"));
    std::ifstream in(dir / (name + ".rgb"), std::ios::binary);
    const std::vector<std::uint8_t> expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_EQ(img.width, 7) << name;
    ASSERT_EQ(img.height, 5) << name;
    EXPECT_EQ(img.pixels, expected) << name;
  }
}

TEST(ImageDecode, PngWithAlphaOrCorruptDataIsRefusedByName) {
  Image img = gradient(6, 4);
  std::string rgba;
  std::vector<std::uint8_t> rgba_pixels(6 * 4 * 4, 200);
  stbi_write_png_to_func([](void* ctx, void* d, int n) { static_cast<std::string*>(ctx)->append(static_cast<char*>(d), n); },
                         &rgba, 6, 4, 4, rgba_pixels.data(), 6 * 4);
  std::string msg = error_of([&] { decode_image(rgba, "alpha.png"); });
  EXPECT_NE(msg.find("alpha.png: image has 4 channel(s), expected 3"), std::string::npos) << msg;
  std::string png = encode_png(img);
  png[png.size() - 20] ^= 0x5A;  // inside the IDAT data: its CRC no longer matches
  msg = error_of([&] { decode_image(png, "corrupt.png"); });
  EXPECT_NE(msg.find("corrupt.png: cannot decode PNG"), std::string::npos) << msg;
  msg = error_of([&] { decode_image(encode_png(img).substr(0, 30), "short.png"); });
  EXPECT_NE(msg.find("short.png: cannot read the PNG header"), std::string::npos) << msg;
  msg = error_of([&] { read_image(fs::path(GCNN_SOURCE_DIR) / "tests/fixtures/png_decode/huge_header.png"); });
  EXPECT_NE(msg.find("huge_header.png: image of 16000x16000 pixels exceeds the limit of 8192"), std::string::npos) << msg;
}

TEST(ImageDecode, GrayscaleJpegIsRefusedNamingItsColourSpace) {
  const fs::path gray = fs::path(GCNN_SOURCE_DIR) / "tests/fixtures/jpeg_decode/gray.jpg";
  const std::string msg = error_of([&] { read_image(gray); });
  EXPECT_NE(msg.find("gray.jpg: JPEG in the grayscale colour space"), std::string::npos) << msg;
}

TEST(ImageDecode, ErrorsNameThePath) {
  fs::path dir = temp_dir("errors");
  std::string jpeg = encode_jpeg(gradient(64, 64), 90);
  write_bytes(dir / "truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
  write_bytes(dir / "text.jpg", "objID,oh_p50\nthis is not an image\n");
  write_bytes(dir / "gray.png", grayscale_png());
  write_bytes(dir / "empty.jpg", "");

  std::string msg = error_of([&] { read_image(dir / "truncated.jpg"); });
  EXPECT_NE(msg.find((dir / "truncated.jpg").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  msg = error_of([&] { read_image(dir / "text.jpg"); });
  EXPECT_NE(msg.find((dir / "text.jpg").string() + ": not a JPEG or PNG file"), std::string::npos) << msg;
  msg = error_of([&] { read_image(dir / "gray.png"); });
  EXPECT_NE(msg.find((dir / "gray.png").string() + ": image has 1 channel(s), expected 3"), std::string::npos) << msg;
  msg = error_of([&] { read_image(dir / "empty.jpg"); });
  EXPECT_NE(msg.find("empty image file"), std::string::npos) << msg;
  msg = error_of([&] { read_image(dir / "absent.jpg"); });
  EXPECT_NE(msg.find((dir / "absent.jpg").string() + ": cannot open image"), std::string::npos) << msg;
}

TEST(ImageDecode, OnlyJpegAndPngMatchingTheirNamesAreRead) {
  std::string bmp;
  const Image img = gradient(8, 8);
  stbi_write_bmp_to_func([](void* ctx, void* d, int n) { static_cast<std::string*>(ctx)->append(static_cast<char*>(d), n); },
                         &bmp, 8, 8, 3, img.pixels.data());
  std::string msg = error_of([&] { decode_image(bmp, "cutout.jpg"); });
  EXPECT_NE(msg.find("cutout.jpg: not a JPEG or PNG file"), std::string::npos) << msg;
  msg = error_of([&] { decode_image(encode_png(img), "cutout.jpg"); });
  EXPECT_NE(msg.find("cutout.jpg: named as a JPEG but holds PNG data"), std::string::npos) << msg;
  msg = error_of([&] { decode_image(encode_jpeg(img, 90), "cutout.png"); });
  EXPECT_NE(msg.find("cutout.png: named as a PNG but holds JPEG data"), std::string::npos) << msg;
}

TEST(ImageDecode, AHugeJpegHeaderIsRefusedBeforeDecoding) {
  std::string jpeg = encode_jpeg(gradient(8, 8), 90);
  // SOF0: FF C0, length (2 bytes), precision (1), height (2), width (2).
  const auto sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (std::size_t at : {sof + 5, sof + 7}) {
    jpeg[at] = static_cast<char>(16000 >> 8);
    jpeg[at + 1] = static_cast<char>(16000 & 0xFF);
  }
  const std::string msg = error_of([&] { decode_image(jpeg, "huge.jpg"); });
  EXPECT_NE(msg.find("huge.jpg: image of 16000x16000 pixels exceeds the limit"), std::string::npos) << msg;
}

TEST(ImageDataset, ErrorPolicyThrowsOnFirstBadFileAndSkipPolicyReportsEach) {
  fs::path dir = temp_dir("dataset");
  write_bytes(dir / "good1.jpg", encode_jpeg(gradient(32, 32), 90));
  write_bytes(dir / "good2.png", encode_png(gradient(64, 48)));  // other size: resized
  std::string jpeg = encode_jpeg(gradient(32, 32), 90);
  write_bytes(dir / "cut.jpg", jpeg.substr(0, jpeg.size() - 40));
  write_bytes(dir / "text.jpg", "hello");
  write_bytes(dir / "gray.png", grayscale_png());
  std::vector<std::string> ids = {"good1", "cut", "missing", "good2", "text", "gray"};

  ImageLoadOptions options;
  options.size = 32;
  options.threads = 2;
  std::string msg = error_of([&] { load_images(dir, ids, options); });
  EXPECT_NE(msg.find((dir / "cut.jpg").string()), std::string::npos) << msg;  // the first bad id in order

  options.on_bad_image = BadImagePolicy::skip;
  LoadedImages loaded = load_images(dir, ids, options);
  EXPECT_EQ(loaded.kept, (std::vector<std::size_t>{0, 3}));
  ASSERT_EQ(loaded.problems.size(), 4u);
  EXPECT_NE(loaded.problems[0].find("cut.jpg"), std::string::npos);
  EXPECT_NE(loaded.problems[1].find((dir / "missing").string() + ": missing image"), std::string::npos)
      << loaded.problems[1];
  EXPECT_NE(loaded.problems[2].find("text.jpg"), std::string::npos);
  EXPECT_NE(loaded.problems[3].find("gray.png"), std::string::npos);

  const ImageDataset& images = loaded.images;
  ASSERT_EQ(images.count(), 2u);
  EXPECT_EQ(images.stored_size(), 32);
  EXPECT_TRUE(images.is_cached());
  std::vector<std::uint8_t> expected = resize_area(gradient(64, 48), 32, 32).pixels, got(images.image_bytes());
  images.get(1, got.data());
  EXPECT_EQ(got, expected);

  // Beyond the cache limit the same pixels come from the files on every access.
  options.cache_limit_bytes = 1000;
  LoadedImages streamed = load_images(dir, ids, options);
  EXPECT_FALSE(streamed.images.is_cached());
  EXPECT_EQ(streamed.images.cached(0), nullptr);
  std::vector<std::uint8_t> again(images.image_bytes());
  streamed.images.get(1, again.data());
  EXPECT_EQ(again, expected);
}

TEST(Resize, AreaAveragingIntegerFactorIsBlockMeanRounded) {
  Image img = gray(4, 4, {0, 2, 10, 20,  //
                          4, 6, 30, 41,  //
                          1, 2, 100, 100,  //
                          3, 4, 100, 101});
  EXPECT_EQ(channel0(downsample_area(img, 2)), (std::vector<int>{3, 25, 3, 100}));  // 2.5 rounds to 3; 100.25 -> 100
  EXPECT_EQ(channel0(downsample_area(img, 1)), (std::vector<int>{33}));  // 524 / 16 = 32.75
}

TEST(Resize, AreaAveragingFractionalFactorWeightsPartialPixels) {
  // 3 -> 2: output 0 covers input 0 fully and half of input 1 (weights 2/3,
  // 1/3); output 1 the other half of 1 and all of 2 (1/3, 2/3).
  Image img = gray(3, 3, {0, 30, 60, 90, 120, 150, 180, 210, 240});
  EXPECT_EQ(channel0(resize_area(img, 2, 2)), (std::vector<int>{40, 80, 160, 200}));
  // 3 -> 1 along x only: plain row means.
  EXPECT_EQ(channel0(resize_area(img, 1, 3)), (std::vector<int>{30, 120, 210}));
}

TEST(Resize, BilinearAndNearestUpsampling) {
  Image img = gray(2, 1, {0, 100});
  EXPECT_EQ(channel0(resize_bilinear(img, 4, 1)), (std::vector<int>{0, 25, 75, 100}));
  EXPECT_EQ(channel0(resize_nearest(img, 4, 1)), (std::vector<int>{0, 0, 100, 100}));
}

TEST(Resize, ResolutionStudyDownsamplesThenUpsamplesBack) {
  Image img = gray(4, 4, {0, 2, 10, 20, 4, 6, 30, 41, 1, 2, 100, 100, 3, 4, 100, 101});
  Image low = prepare_image(img, 4, 2, Upsample::nearest);
  EXPECT_EQ(low.width, 4);
  EXPECT_EQ(channel0(low), (std::vector<int>{3, 3, 25, 25, 3, 3, 25, 25, 3, 3, 100, 100, 3, 3, 100, 100}));
  Image kept_small = prepare_image(img, 4, 2, Upsample::none);
  EXPECT_EQ(kept_small.width, 2);
  Image one = prepare_image(img, 4, 1, Upsample::nearest);
  EXPECT_EQ(channel0(one), std::vector<int>(16, 33));
  // Each of the paper's resolutions from 128 px keeps the image mean.
  Image big = gradient(128, 128);
  for (int r : {64, 32, 16, 8, 4, 2, 1}) {
    Image small = downsample_area(big, r);
    double sum_big = 0, sum_small = 0;
    for (auto v : big.pixels) sum_big += v;
    for (auto v : small.pixels) sum_small += v;
    EXPECT_NEAR(sum_small / small.pixels.size(), sum_big / big.pixels.size(), 0.5) << r;
  }
}

// The degradation of data.degrade with bilinear growth back: 4x4 blocks
// average to 0, 40, 80, 120; growing 2 -> 4 px samples at source x = -0.25
// (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1), so weights 0, 1/4, 3/4, 1.
TEST(Degrade, FourToTwoAndBackBilinear) {
  Image img = gray(4, 4, {0, 0, 30, 50,  //
                          0, 0, 40, 40,  //
                          80, 80, 120, 110,  //
                          70, 90, 130, 120});
  EXPECT_EQ(channel0(prepare_image(img, 4, 2, Upsample::none)), (std::vector<int>{0, 40, 80, 120}));
  EXPECT_EQ(channel0(prepare_image(img, 4, 2, Upsample::bilinear)),
            (std::vector<int>{0, 10, 30, 40,  //
                              20, 30, 50, 60,  //
                              60, 70, 90, 100,  //
                              80, 90, 110, 120}));
}

// 3 px degraded to 2 (fractional coverage: weights 2/3, 1/3 | 1/3, 2/3) gives
// 40, 80, 160, 200; back to 3 px nearest replicates source rows/columns
// 0, 0, 1, bilinear samples at -1/6 (clamped to 0), 1/2, 7/6 (clamped to 1).
TEST(Degrade, NonDividingSize) {
  Image img = gray(3, 3, {0, 30, 60, 90, 120, 150, 180, 210, 240});
  EXPECT_EQ(channel0(prepare_image(img, 3, 2, Upsample::nearest)),
            (std::vector<int>{40, 40, 80, 40, 40, 80, 160, 160, 200}));
  EXPECT_EQ(channel0(prepare_image(img, 3, 2, Upsample::bilinear)),
            (std::vector<int>{40, 60, 80, 100, 120, 140, 160, 180, 200}));
}

TEST(Degrade, ConstantImageStaysConstant) {
  Image img(12, 12);
  for (std::size_t i = 0; i < img.pixels.size(); i += 3) {
    img.pixels[i] = 17;
    img.pixels[i + 1] = 130;
    img.pixels[i + 2] = 255;
  }
  for (int n : {12, 7, 6, 5, 4, 3, 2, 1})
    for (Upsample up : {Upsample::nearest, Upsample::bilinear}) {
      const Image out = prepare_image(img, 12, n, up);
      ASSERT_EQ(out.width, 12);
      EXPECT_EQ(out.pixels, img.pixels) << n << " px";
    }
}

// 1 px: every pixel is the image's mean, channel by channel.
TEST(Degrade, OnePixelIsThePerChannelMean) {
  Image img(4, 4);
  for (int i = 0; i < 16; ++i) {
    img.pixels[i * 3] = static_cast<std::uint8_t>(10 * i);                       // sum 1200
    img.pixels[i * 3 + 1] = static_cast<std::uint8_t>(i < 8 ? 255 : i == 15);  // sum 2041
    img.pixels[i * 3 + 2] = 9;
  }
  for (Upsample up : {Upsample::nearest, Upsample::bilinear}) {
    const Image one = prepare_image(img, 4, 1, up);
    ASSERT_EQ(one.width, 4);
    for (std::size_t i = 0; i < one.pixels.size(); i += 3) {
      EXPECT_EQ(one.pixels[i], 75);       // 1200 / 16
      EXPECT_EQ(one.pixels[i + 1], 128);  // 2041 / 16 = 127.56
      EXPECT_EQ(one.pixels[i + 2], 9);
    }
  }
}

// load_images degrades each image once, into the uint8 cache.
TEST(Degrade, AppliedWhenTheCacheIsBuilt) {
  const fs::path dir = fs::temp_directory_path() / "gcnn_image_test_degrade_cache";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Image img = gray(4, 4, {0, 0, 30, 50, 0, 0, 40, 40, 80, 80, 120, 110, 70, 90, 130, 120});
  write_bytes(dir / "a.png", encode_png(img));
  ImageLoadOptions options;
  options.size = 4;
  options.resolution = 2;
  options.upsample = Upsample::nearest;
  const LoadedImages loaded = load_images(dir, {"a"}, options);
  ASSERT_TRUE(loaded.images.is_cached());
  ASSERT_EQ(loaded.images.stored_size(), 4);
  const std::uint8_t* px = loaded.images.cached(0);
  std::vector<int> got;
  for (int i = 0; i < 16; ++i) got.push_back(px[i * 3]);
  EXPECT_EQ(got, (std::vector<int>{0, 0, 40, 40, 0, 0, 40, 40, 80, 80, 120, 120, 80, 80, 120, 120}));
  fs::remove_all(dir);
}

TEST(ImageGrid, TilesWithGaps) {
  Image a = gray(2, 2, {1, 1, 1, 1}), b = gray(2, 2, {9, 9, 9, 9});
  Image grid = image_grid({a, b, a}, 2, 1);
  EXPECT_EQ(grid.width, 2 * 2 + 3);
  EXPECT_EQ(grid.height, 2 * 2 + 3);
  EXPECT_EQ(grid.at(1, 1, 0), 1);
  EXPECT_EQ(grid.at(1, 4, 0), 9);
  EXPECT_EQ(grid.at(4, 1, 0), 1);
  EXPECT_EQ(grid.at(0, 0, 0), 40);
}

}  // namespace
}  // namespace gcnn
