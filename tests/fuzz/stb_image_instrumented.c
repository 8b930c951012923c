/* The fuzz build's own copy of stb_image's decoder (Debian's libstb.so is not
 * instrumented): compiled here with coverage and sanitizers, it takes the place
 * of the shared library's in the targets that decode images, so that libFuzzer
 * sees inside the JPEG and PNG decoders and ASan/UBSan check them. */
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
