// Synthetic SDSS-like galaxies: the project's embedded default data. Each
// galaxy gets a stellar mass, a gas metallicity from a mass-metallicity
// relation, a Sersic bulge plus exponential disk whose sizes, bulge fraction
// and colours follow the mass (colours weakly the metallicity too), a redshift,
// seeing and sky noise, and is rendered as a gri -> RGB asinh-stretched JPEG
// framed like the SDSS cutouts of Wu & Boada 2019. The relations are listed in
// synth.cpp. Everything is a function of (seed, index): the same seed gives
// the same bytes whatever the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/image.h"

namespace gcnn {

struct SynthGalaxy {
  std::string id;            // objID: 19 digits, unique per (seed, index)
  double log_mass = 10;      // lgm_tot_p50: log10 stellar mass / Msun
  double oh = 8.9;           // oh_p50: 12 + log10(O/H)
  double ra = 0, dec = 0;    // degrees
  double petro_r90 = 5;      // petroR90_r: arcsec (approximate circular R90 in r)
  double redshift = 0.08;
  double bulge_fraction = 0;  // B/T in r
  double disk_re_arcsec = 3, bulge_re_arcsec = 1, bulge_sersic_n = 4;
  double axis_ratio = 1, bulge_axis_ratio = 1, position_angle = 0;  // radians
  double disk_gr = 0.5, disk_ri = 0.2, bulge_gr = 0.75, bulge_ri = 0.38;  // colours, mag
  double r_mag = 17;          // apparent r magnitude
  double seeing_fwhm = 1.3;   // arcsec, r band
  double arm_amplitude = 0, arm_pitch = 0.3, arm_phase = 0;
  double cutout_scale = 0.396;  // arcsec per cutout pixel
  std::uint64_t render_seed = 0;  // noise, stars and neighbours
};

struct SynthOptions {
  int size = 128;           // cutout side, pixels
  std::uint64_t seed = 0;
  int jpeg_quality = 50;
  int threads = 0;          // 0: all cores
};

// The physical parameters of galaxy `index` of the set drawn with `seed`.
SynthGalaxy draw_galaxy(std::uint64_t seed, std::size_t index);
// The RGB cutout of a galaxy, size x size.
Image render_galaxy(const SynthGalaxy& galaxy, int size);

// Limits on a synthetic set: galaxies and cutout side in pixels.
inline constexpr std::int64_t kSynthMaxGalaxies = 10'000'000;
inline constexpr int kSynthMinSize = 8, kSynthMaxSize = 1024;
// Throws an InputError stating the limit when n or an option is out of range.
void check_synth_request(std::int64_t n, const SynthOptions& options);

// Writes out/images/<objID>.jpg for n galaxies and out/catalog.csv with
// columns objID, oh_p50, lgm_tot_p50, ra, dec, petroR90_r. Returns the galaxies.
// Checks the request (check_synth_request) before any work.
std::vector<SynthGalaxy> write_synthetic_dataset(const std::filesystem::path& out, std::size_t n,
                                                 const SynthOptions& options);

// 12 + log(O/H) of the mass-metallicity relation (Tremonti et al. 2004) at
// x = log10 stellar mass, before scatter.
double mass_metallicity(double log_mass);

}  // namespace gcnn
