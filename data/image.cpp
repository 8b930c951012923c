// Image decoding (JPEG through libjpeg-turbo, PNG through libpng),
// resizing, encoding (stb_image_write) and the in-memory ImageDataset.
#include "data/image.h"

#include <png.h>
#include <stb_image_write.h>
#include <turbojpeg.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "data/threads.h"
#include "kernels/error.h"

namespace gcnn {
namespace fs = std::filesystem;

namespace {

bool is_jpeg(std::string_view b) { return b.size() >= 2 && (unsigned char)b[0] == 0xFF && (unsigned char)b[1] == 0xD8; }
bool is_png(std::string_view b) { return b.starts_with("\x89PNG\r\n\x1a\n"); }

bool ends_with_lower(std::string name, std::string_view suffix) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name.ends_with(suffix);
}

// A cheap first test for a truncated JPEG: the end-of-image marker FF D9
// near the end (libjpeg-turbo also warns about truncation, which is refused).
bool jpeg_has_end_marker(std::string_view b) {
  std::size_t start = b.size() > 4096 ? b.size() - 4096 : 0;
  for (std::size_t i = b.size(); i-- > start + 1;)
    if ((unsigned char)b[i - 1] == 0xFF && (unsigned char)b[i] == 0xD9) return true;
  return false;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  GCNN_CHECK(in.good(), "{}: cannot open image: {}", path.string(), std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::uint8_t to_u8(double v) { return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

// Weights of input pixels covered by each output pixel along one axis, for
// area averaging: output o covers [o*in/out, (o+1)*in/out) in input units.
struct AxisWeights {
  std::vector<int> first;  // first input index per output
  std::vector<std::vector<double>> weights;
};
AxisWeights area_weights(int in, int out) {
  AxisWeights w;
  const double scale = static_cast<double>(in) / out;
  for (int o = 0; o < out; ++o) {
    double lo = o * scale, hi = (o + 1) * scale;
    int i0 = static_cast<int>(std::floor(lo));
    int i1 = std::min(in, static_cast<int>(std::ceil(hi)));
    std::vector<double> ws;
    for (int i = i0; i < i1; ++i) ws.push_back((std::min<double>(hi, i + 1) - std::max<double>(lo, i)) / scale);
    w.first.push_back(i0);
    w.weights.push_back(std::move(ws));
  }
  return w;
}

// A fresh decompressor per image: libjpeg-turbo 2.1's handle is not reliably
// reusable after a failed call (the next header read reports the old error).
using JpegDecompressor = std::unique_ptr<void, int (*)(tjhandle)>;
JpegDecompressor jpeg_decompressor() {
  JpegDecompressor handle(tjInitDecompress(), tjDestroy);
  GCNN_CHECK(handle != nullptr, "libjpeg-turbo: cannot create a decompressor: {}", tjGetErrorStr2(nullptr));
  return handle;
}

// JPEG through libjpeg-turbo with the accurate integer IDCT and fancy chroma
// upsampling: libjpeg's defaults, so the pixels are bit-identical to what PIL
// (and so PyTorch's and fastai's loaders) decode. stb_image's decoder differs
// from it by 1-3 levels in ~4% of the values of SDSS cutouts, enough to move
// trained models (benchmarks/README.md, issue 15). Decoder warnings (corrupt
// or truncated data) are refused like errors.
Image decode_jpeg(std::string_view bytes, const std::string& name);

}  // namespace

JpegHeader read_jpeg_header(std::string_view bytes, const std::string& name) {
  int w = 0, h = 0, subsampling = 0, colorspace = 0;
  const JpegDecompressor handle = jpeg_decompressor();
  GCNN_INPUT_CHECK(tjDecompressHeader3(handle.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                       static_cast<unsigned long>(bytes.size()), &w, &h, &subsampling,
                                       &colorspace) == 0,
                   "{}: cannot read the JPEG header: {}", name, tjGetErrorStr2(handle.get()));
  GCNN_INPUT_CHECK(w >= 1 && h >= 1, "{}: JPEG header claims {}x{} pixels", name, w, h);
  const char* space = colorspace == TJCS_GRAY ? "grayscale" : colorspace == TJCS_CMYK ? "CMYK"
                      : colorspace == TJCS_YCCK ? "YCCK" : "";
  return {w, h, *space == 0, space};
}

namespace {

Image decode_jpeg(std::string_view bytes, const std::string& name) {
  // Dimensions first, from the header alone, so a header claiming a huge image allocates nothing.
  const JpegHeader header = read_jpeg_header(bytes, name);
  const int w = header.width, h = header.height;
  GCNN_INPUT_CHECK(w <= kMaxImageSide && h <= kMaxImageSide,
                   "{}: image of {}x{} pixels exceeds the limit of {} pixels a side", name, w, h, kMaxImageSide);
  GCNN_INPUT_CHECK(header.color, "{}: JPEG in the {} colour space; expected a colour (YCbCr or RGB) gri composite",
                   name, header.colorspace);
  const JpegDecompressor handle = jpeg_decompressor();
  Image image(w, h);
  const int status = tjDecompress2(handle.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                   static_cast<unsigned long>(bytes.size()), image.pixels.data(), w, w * 3, h, TJPF_RGB,
                                   TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING);
  GCNN_INPUT_CHECK(status == 0, "{}: cannot decode JPEG: {}", name, tjGetErrorStr2(handle.get()));
  return image;
}

// Decodes a PNG with libpng's simplified API: 8- or 16-bit RGB (or a palette of
// opaque colours) to 8-bit RGB; 16-bit samples are taken as sRGB-encoded and
// scaled, as other readers do. Grayscale and alpha are refused.
Image decode_png(std::string_view bytes, const std::string& name) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  struct Release {
    png_image* p;
    ~Release() { png_image_free(p); }
  } release{&png};
  // The header alone first, so a header claiming a huge image allocates nothing.
  GCNN_INPUT_CHECK(png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()) != 0,
                   "{}: cannot read the PNG header: {}", name, png.message);
  const int channels = ((png.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1) + ((png.format & PNG_FORMAT_FLAG_ALPHA) ? 1 : 0);
  GCNN_INPUT_CHECK(png.width >= 1 && png.height >= 1 && png.width <= static_cast<png_uint_32>(kMaxImageSide) &&
                       png.height <= static_cast<png_uint_32>(kMaxImageSide),
                   "{}: image of {}x{} pixels exceeds the limit of {} pixels a side", name, png.width, png.height,
                   kMaxImageSide);
  GCNN_INPUT_CHECK(channels == 3, "{}: image has {} channel(s), expected 3 (RGB gri composite)", name, channels);
  png.format = PNG_FORMAT_RGB;
  png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
  Image image(static_cast<int>(png.width), static_cast<int>(png.height));
  GCNN_INPUT_CHECK(png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr) != 0,
                   "{}: cannot decode PNG: {}", name, png.message);
  return image;
}

}  // namespace

Image decode_image(std::string_view bytes, const std::string& name) {
  GCNN_INPUT_CHECK(!bytes.empty(), "{}: empty image file", name);
  const bool jpeg = is_jpeg(bytes), png = is_png(bytes);
  GCNN_INPUT_CHECK(jpeg || png, "{}: not a JPEG or PNG file (only those formats are read)", name);
  GCNN_INPUT_CHECK(!(ends_with_lower(name, ".jpg") || ends_with_lower(name, ".jpeg")) || jpeg,
                   "{}: named as a JPEG but holds PNG data", name);
  GCNN_INPUT_CHECK(!ends_with_lower(name, ".png") || png, "{}: named as a PNG but holds JPEG data", name);
  if (jpeg) GCNN_INPUT_CHECK(jpeg_has_end_marker(bytes), "{}: truncated JPEG (no end-of-image marker)", name);
  GCNN_INPUT_CHECK(bytes.size() <= static_cast<std::size_t>(INT32_MAX), "{}: image file of {} bytes is too large",
                   name, bytes.size());
  return jpeg ? decode_jpeg(bytes, name) : decode_png(bytes, name);
}

Image read_image(const fs::path& path) { return decode_image(read_bytes(path), path.string()); }

fs::path find_image_file(const fs::path& dir, const std::string& id) {
  for (const char* ext : {".jpg", ".jpeg", ".png"}) {
    fs::path p = dir / (id + ext);
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p;
  }
  return {};
}

Image resize_area(const Image& image, int width, int height) {
  GCNN_CHECK(width > 0 && height > 0 && image.width > 0 && image.height > 0,
             "resize_area: cannot resize {}x{} to {}x{}", image.width, image.height, width, height);
  if (width == image.width && height == image.height) return image;
  const AxisWeights wx = area_weights(image.width, width), wy = area_weights(image.height, height);
  // Horizontal pass into doubles, then vertical.
  std::vector<double> rows(static_cast<std::size_t>(image.height) * width * 3, 0.0);
  for (int y = 0; y < image.height; ++y)
    for (int ox = 0; ox < width; ++ox)
      for (std::size_t k = 0; k < wx.weights[ox].size(); ++k) {
        int x = wx.first[ox] + static_cast<int>(k);
        for (int c = 0; c < 3; ++c)
          rows[(static_cast<std::size_t>(y) * width + ox) * 3 + c] += wx.weights[ox][k] * image.at(y, x, c);
      }
  Image out(width, height);
  for (int oy = 0; oy < height; ++oy)
    for (int ox = 0; ox < width; ++ox)
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (std::size_t k = 0; k < wy.weights[oy].size(); ++k) {
          int y = wy.first[oy] + static_cast<int>(k);
          sum += wy.weights[oy][k] * rows[(static_cast<std::size_t>(y) * width + ox) * 3 + c];
        }
        out.at(oy, ox, c) = to_u8(sum);
      }
  return out;
}

Image downsample_area(const Image& image, int size) { return resize_area(image, size, size); }

Image resize_bilinear(const Image& image, int width, int height) {
  GCNN_CHECK(width > 0 && height > 0 && image.width > 0 && image.height > 0,
             "resize_bilinear: cannot resize {}x{} to {}x{}", image.width, image.height, width, height);
  Image out(width, height);
  const double sx = static_cast<double>(image.width) / width, sy = static_cast<double>(image.height) / height;
  for (int oy = 0; oy < height; ++oy) {
    double fy = std::clamp((oy + 0.5) * sy - 0.5, 0.0, image.height - 1.0);
    int y0 = static_cast<int>(fy), y1 = std::min(y0 + 1, image.height - 1);
    double ty = fy - y0;
    for (int ox = 0; ox < width; ++ox) {
      double fx = std::clamp((ox + 0.5) * sx - 0.5, 0.0, image.width - 1.0);
      int x0 = static_cast<int>(fx), x1 = std::min(x0 + 1, image.width - 1);
      double tx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        double top = image.at(y0, x0, c) * (1 - tx) + image.at(y0, x1, c) * tx;
        double bottom = image.at(y1, x0, c) * (1 - tx) + image.at(y1, x1, c) * tx;
        out.at(oy, ox, c) = to_u8(top * (1 - ty) + bottom * ty);
      }
    }
  }
  return out;
}

Image resize_nearest(const Image& image, int width, int height) {
  GCNN_CHECK(width > 0 && height > 0 && image.width > 0 && image.height > 0,
             "resize_nearest: cannot resize {}x{} to {}x{}", image.width, image.height, width, height);
  Image out(width, height);
  for (int oy = 0; oy < height; ++oy) {
    int y = static_cast<int>(static_cast<long>(oy) * image.height / height);
    for (int ox = 0; ox < width; ++ox) {
      int x = static_cast<int>(static_cast<long>(ox) * image.width / width);
      for (int c = 0; c < 3; ++c) out.at(oy, ox, c) = image.at(y, x, c);
    }
  }
  return out;
}

Image prepare_image(const Image& image, int size, int resolution, Upsample upsample) {
  GCNN_CHECK(size > 0, "prepare_image: size {} must be positive", size);
  GCNN_CHECK(resolution >= 0 && resolution <= size, "prepare_image: resolution {} must be in 0..{}", resolution,
             size);
  Image out = image.width > size || image.height > size ? resize_area(image, size, size)
              : (image.width == size && image.height == size) ? image
                                                              : resize_bilinear(image, size, size);
  if (resolution == 0 || resolution == size) return out;
  out = downsample_area(out, resolution);
  switch (upsample) {
    case Upsample::none: return out;
    case Upsample::nearest: return resize_nearest(out, size, size);
    case Upsample::bilinear: return resize_bilinear(out, size, size);
  }
  return out;
}

void ImageDataset::get(std::size_t i, std::uint8_t* out) const {
  GCNN_CHECK(i < count(), "ImageDataset::get: index {} out of range ({} images)", i, count());
  if (!cache_.empty()) {
    std::memcpy(out, cached(i), image_bytes());
    return;
  }
  Image img = prepare_image(read_image(paths_[i]), options_.size, options_.resolution, options_.upsample);
  std::memcpy(out, img.pixels.data(), image_bytes());
}

ImageDataset ImageDataset::from_pixels(int size, std::vector<std::uint8_t> pixels) {
  const std::size_t bytes = static_cast<std::size_t>(size) * size * 3;
  GCNN_CHECK(size > 0 && pixels.size() % bytes == 0, "ImageDataset::from_pixels: {} bytes is not a whole number "
             "of {}x{}x3 images", pixels.size(), size, size);
  ImageDataset ds;
  ds.stored_size_ = size;
  ds.options_.size = size;
  ds.paths_.resize(pixels.size() / bytes);
  ds.cache_ = std::move(pixels);
  return ds;
}

LoadedImages load_images(const fs::path& dir, const std::vector<std::string>& ids, const ImageLoadOptions& options) {
  GCNN_CHECK(options.size > 0, "load_images: size {} must be positive", options.size);
  const int stored = options.resolution > 0 && options.upsample == Upsample::none ? options.resolution : options.size;
  const std::size_t bytes = static_cast<std::size_t>(stored) * stored * 3;
  const bool cache = bytes * ids.size() <= options.cache_limit_bytes;

  std::vector<std::uint8_t> pixels(cache ? bytes * ids.size() : 0);
  std::vector<fs::path> paths(ids.size());
  std::vector<std::string> errors(ids.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < ids.size();) {
      try {
        paths[i] = find_image_file(dir, ids[i]);
        GCNN_CHECK(!paths[i].empty(), "{}: missing image (no .jpg, .jpeg or .png)", (dir / ids[i]).string());
        Image img = prepare_image(read_image(paths[i]), options.size, options.resolution, options.upsample);
        if (cache) std::memcpy(pixels.data() + i * bytes, img.pixels.data(), bytes);
      } catch (const Error& e) {
        errors[i] = e.what();
      }
    }
  };
  unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                         : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(1, ids.size())));
  run_on_threads(threads, work);

  LoadedImages result;
  result.images.stored_size_ = stored;
  result.images.options_ = options;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!errors[i].empty()) {
      if (options.on_bad_image == BadImagePolicy::error) throw Error(errors[i]);
      result.problems.push_back(errors[i]);
      continue;
    }
    result.kept.push_back(i);
  }
  for (std::size_t k = 0; k < result.kept.size(); ++k) {
    std::size_t i = result.kept[k];
    result.images.paths_.push_back(paths[i]);
    if (cache && k != i) std::memmove(pixels.data() + k * bytes, pixels.data() + i * bytes, bytes);
  }
  if (cache) {
    pixels.resize(result.kept.size() * bytes);
    result.images.cache_ = std::move(pixels);
  }
  return result;
}

Image image_grid(const std::vector<Image>& images, int columns, int gap) {
  GCNN_CHECK(!images.empty() && columns > 0, "image_grid: need images and a positive column count");
  const int w = images[0].width, h = images[0].height;
  const int n = static_cast<int>(images.size());
  const int rows = (n + columns - 1) / columns, cols = std::min(columns, n);
  Image grid(cols * w + (cols + 1) * gap, rows * h + (rows + 1) * gap);
  std::fill(grid.pixels.begin(), grid.pixels.end(), std::uint8_t{40});
  for (int k = 0; k < n; ++k) {
    const Image& img = images[static_cast<std::size_t>(k)];
    GCNN_CHECK(img.width == w && img.height == h, "image_grid: image {} is {}x{}, expected {}x{}", k, img.width,
               img.height, w, h);
    const int x0 = gap + (k % columns) * (w + gap), y0 = gap + (k / columns) * (h + gap);
    for (int y = 0; y < h; ++y)
      std::memcpy(&grid.at(y0 + y, x0, 0), &img.pixels[static_cast<std::size_t>(y) * w * 3],
                  static_cast<std::size_t>(w) * 3);
  }
  return grid;
}

std::string encode_png(const Image& image) {
  std::string out;
  stbi_write_png_to_func(
      [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size); },
      &out, image.width, image.height, 3, image.pixels.data(), image.width * 3);
  GCNN_CHECK(!out.empty(), "encode_png: stb_image_write failed for a {}x{} image", image.width, image.height);
  return out;
}

std::string encode_jpeg(const Image& image, int quality) {
  std::string out;
  stbi_write_jpg_to_func(
      [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size); },
      &out, image.width, image.height, 3, image.pixels.data(), quality);
  GCNN_CHECK(!out.empty(), "encode_jpeg: stb_image_write failed for a {}x{} image", image.width, image.height);
  return out;
}

}  // namespace gcnn
