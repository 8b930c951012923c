// Fuzz target: image files as read_image takes them (data/image decode_image:
// JPEG through libjpeg-turbo, PNG through libpng), named <id>.jpg or <id>.png after their
// first bytes, and once with a name that does not match. Invariants of an
// image that decodes: 1..kMaxImageSide pixels a side, width*height*3 bytes of
// RGB; a small one encoded as PNG decodes to the same pixels, and
// prepare_image makes a 16x16 copy of it.
#include "data/image.h"
#include "tests/fuzz/fuzz_support.h"

namespace gcnn::fuzz {

void image_decode(std::string_view bytes) {
  const bool png_bytes = bytes.starts_with("\x89PNG");
  const auto image = unless_rejected([&] { return decode_image(bytes, png_bytes ? "g.png" : "g.jpg"); });
  // The other extension: content that does not match its name is refused.
  FUZZ_REQUIRE(!unless_rejected([&] { return decode_image(bytes, png_bytes ? "g.jpg" : "g.png"); }),
               "{} bytes decoded under both a .jpg and a .png name", bytes.size());
  if (!image) return;
  FUZZ_REQUIRE(image->width >= 1 && image->height >= 1 && image->width <= kMaxImageSide &&
                   image->height <= kMaxImageSide,
               "{}x{} image", image->width, image->height);
  FUZZ_REQUIRE(image->pixels.size() == static_cast<std::size_t>(image->width) * image->height * 3,
               "{} bytes for {}x{}", image->pixels.size(), image->width, image->height);
  if (static_cast<std::size_t>(image->width) * image->height > 256 * 256) return;  // keep each input fast
  const Image again = must_accept("the image encoded as PNG", [&] { return decode_image(encode_png(*image), "re.png"); });
  FUZZ_REQUIRE(again.width == image->width && again.height == image->height && again.pixels == image->pixels,
               "{}x{} image changed through PNG", image->width, image->height);
  const Image small = prepare_image(*image, 16);
  FUZZ_REQUIRE(small.width == 16 && small.height == 16 && small.pixels.size() == 16 * 16 * 3, "prepared {}x{}",
               small.width, small.height);
}

}  // namespace gcnn::fuzz

GCNN_FUZZ_TARGET(gcnn::fuzz::image_decode)
