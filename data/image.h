// Galaxy images: decoding <dir>/<id>.jpg|.png (libjpeg-turbo, libpng) into 8-bit RGB
// (height x width x 3, row-major HWC), resizing (area averaging down, bilinear
// or nearest up), the paper's resolution study (downsample to 128..1 px by area
// averaging, optionally upsample back) and ImageDataset, the decoded images of a
// catalog held in memory as uint8.
//
// Memory: ImageDataset caches every image (size*size*3 bytes each: 48 KiB at
// 128 px, so 25k images take 1.2 GB, the paper's 96k training set 4.7 GB). When
// that exceeds ImageLoadOptions::cache_limit_bytes it keeps only the file paths
// and decodes each image again on every access (every image is still decoded
// once at load time, so bad files are found before training starts); loader
// worker threads then do the decoding, at the decode rate `gcnn bench data`
// reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace gcnn {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // height * width * 3, RGB interleaved

  Image() = default;
  Image(int w, int h) : width(w), height(h), pixels(static_cast<std::size_t>(w) * h * 3) {}
  std::uint8_t& at(int y, int x, int c) { return pixels[(static_cast<std::size_t>(y) * width + x) * 3 + c]; }
  std::uint8_t at(int y, int x, int c) const {
    return pixels[(static_cast<std::size_t>(y) * width + x) * 3 + c];
  }
};

// The largest image side decode_image accepts (checked from the header before
// any pixel memory is allocated).
inline constexpr int kMaxImageSide = 8192;

// A JPEG's size and colour from its header alone (nothing is decoded or
// allocated); throws gcnn::InputError naming `name` when the header is unreadable.
struct JpegHeader {
  int width = 0, height = 0;
  bool color = false;          // YCbCr or RGB
  const char* colorspace = "";  // otherwise: "grayscale", "CMYK" or "YCCK"
};
JpegHeader read_jpeg_header(std::string_view bytes, const std::string& name);

// Decodes a JPEG or PNG held in memory; name is used in messages. Throws
// gcnn::InputError naming it when the data is neither JPEG nor PNG (BMP, GIF
// and the rest are refused), does not match a .jpg/.jpeg/.png name,
// is truncated (a JPEG without its end marker), is larger than kMaxImageSide a
// side, undecodable, or not 3-channel (grayscale, RGBA).
Image decode_image(std::string_view bytes, const std::string& name);
// Reads and decodes a file; throws naming the path if it is missing.
Image read_image(const std::filesystem::path& path);
// <dir>/<id>.jpg, .jpeg or .png, whichever exists; empty path if none does.
std::filesystem::path find_image_file(const std::filesystem::path& dir, const std::string& id);

// Area averaging: each output pixel is the mean of the input area it covers,
// partially covered input pixels weighted by the covered fraction. Exact block
// means for integer factors (128 -> 64, 32, ..., 1). Meant for shrinking.
Image resize_area(const Image& image, int width, int height);
// Square area downsample: the paper's resolution study (128, 64, ..., 2, 1).
Image downsample_area(const Image& image, int size);
// Bilinear interpolation with pixel centres at (i + 0.5) and edge clamping.
Image resize_bilinear(const Image& image, int width, int height);
// Pixel replication: each output pixel copies the input pixel it falls in.
Image resize_nearest(const Image& image, int width, int height);

enum class Upsample { none, nearest, bilinear };

// The network's view of an image: resized to size x size (area averaging when
// shrinking, bilinear when growing); then, if 0 < resolution < size, reduced
// to resolution px by area averaging and grown back to size with `upsample`
// (Upsample::none leaves it at resolution px).
Image prepare_image(const Image& image, int size, int resolution = 0, Upsample upsample = Upsample::nearest);

enum class BadImagePolicy { error, skip };

struct ImageLoadOptions {
  int size = 128;                  // images are resized to size x size
  int resolution = 0;              // 0: full size; else the resolution study (see prepare_image)
  Upsample upsample = Upsample::nearest;
  BadImagePolicy on_bad_image = BadImagePolicy::error;
  int threads = 0;                 // decoding threads; 0: all cores
  std::size_t cache_limit_bytes = std::size_t{8} << 30;
};

struct LoadedImages;

// The decoded images of a list of ids, all stored_size x stored_size x 3.
class ImageDataset {
 public:
  ImageDataset() = default;
  std::size_t count() const { return paths_.size(); }
  int stored_size() const { return stored_size_; }
  std::size_t image_bytes() const { return static_cast<std::size_t>(stored_size_) * stored_size_ * 3; }
  bool is_cached() const { return !cache_.empty() || paths_.empty(); }
  // Pixels of image i (HWC) copied to out (image_bytes() bytes); decodes the
  // file again when the dataset is not cached. Thread-safe.
  void get(std::size_t i, std::uint8_t* out) const;
  // Pixels of image i in the cache, or nullptr when not cached.
  const std::uint8_t* cached(std::size_t i) const {
    return cache_.empty() ? nullptr : cache_.data() + i * image_bytes();
  }
  const std::filesystem::path& path(std::size_t i) const { return paths_[i]; }
  // An in-memory dataset from already prepared pixels (tests, synthetic data).
  static ImageDataset from_pixels(int size, std::vector<std::uint8_t> pixels);

 private:
  friend LoadedImages load_images(const std::filesystem::path&, const std::vector<std::string>&,
                                  const ImageLoadOptions&);
  int stored_size_ = 0;
  ImageLoadOptions options_;
  std::vector<std::filesystem::path> paths_;
  std::vector<std::uint8_t> cache_;
};

struct LoadedImages {
  ImageDataset images;
  std::vector<std::size_t> kept;      // indices into ids of the images that loaded, in order
  std::vector<std::string> problems;  // "path: reason" for each skipped image
};

// Decodes <dir>/<id>.{jpg,jpeg,png} for every id in parallel. A missing or bad
// file throws naming its path, or with BadImagePolicy::skip is left out and
// described in problems.
LoadedImages load_images(const std::filesystem::path& dir, const std::vector<std::string>& ids,
                         const ImageLoadOptions& options = {});

// Tiles images (all the same size) into a grid with `gap` dark pixels between.
Image image_grid(const std::vector<Image>& images, int columns, int gap = 2);

// Encoders (stb_image_write): PNG and JPEG bytes of an image.
std::string encode_png(const Image& image);
std::string encode_jpeg(const Image& image, int quality);

}  // namespace gcnn
