// Synthetic galaxy generator. The relations, each a simple published trend or
// a rough SDSS-like choice, are:
//
//  stellar mass   x = log10 M*/Msun ~ N(10.0, 0.55), kept in [8.5, 11.4] (the
//                 star-forming MPA-JHU sample of Wu & Boada peaks near 10).
//  metallicity    12+log(O/H) = -1.492 + 1.847 x - 0.08026 x^2 (Tremonti et al.
//                 2004) + N(0, 0.10) dex intrinsic scatter; dZ is that residual.
//  redshift       z ~ U(0.02, 0.15), redrawn (lower) until r < 17.77, the SDSS
//                 main-sample limit. Distances: H0 = 70, q0 = -0.55 expansion.
//  bulge fraction B/T = 0.05 + 0.45 / (1 + exp(-(x - 10.6) / 0.3)) + N(0, 0.08),
//                 clipped to [0, 0.8]: massive galaxies are bulgier.
//  sizes          disk half-light radius log10 R/kpc = 0.45 + 0.15 (x - 10)
//                 + N(0, 0.13) (Shen et al. 2003 late types); bulge R_e = U(0.2,
//                 0.5) R_disk, Sersic n_bulge ~ U(2.5, 4).
//  colours (mag)  disk  g-r = 0.30 + 0.15 (x-10) + 0.5 dZ, r-i = 0.15 + 0.05 (x-10)
//                 + 0.2 dZ (metal-richer at fixed mass: older, dustier, redder;
//                 0.1 dex -> 0.05 mag, a weak signal); bulge g-r = 0.75 + 0.03
//                 (x-10), r-i = 0.38; dust reddens inclined massive disks by up to
//                 0.15 mag in g-r; redshift adds 0.8 z to g-r and 0.3 z to r-i
//                 (K-correction); N(0, 0.03-0.04) scatter on each.
//  luminosity     log10 M/L_r = -0.306 + 1.097 (g-r) (Bell & de Jong 2001), solar
//                 M_r = 4.65; m_r = M_r + 5 log10(D_L / 10 pc).
//  geometry       cos i ~ U(0, 1), disk axis ratio q^2 = cos^2 i (1 - 0.15^2) +
//                 0.15^2; bulge q ~ U(0.7, 1); position angle ~ U(0, pi); two
//                 logarithmic spiral arms (pitch 12-30 deg) with amplitude up to
//                 0.6 (1 - B/T), bluer than the disk; up to 14 (1 - B/T) blue
//                 star-forming knots (0.3-1.5% of the disk flux each) placed by
//                 the exponential profile.
//  framing        petroR90_r ~ circular R90 of the profile convolved with the PSF
//                 (2.3 R_e for the disk, 2.9 R_e for the bulge, times q^0.25); the
//                 cutout spans 4 R90 (the paper framed at about twice R90).
//  seeing         Gaussian core plus 10% in a 2.5x wider Gaussian (Moffat-like
//                 wings), FWHM_r ~ N(1.35", 0.2") in [0.9, 2.0]; g 8% worse, i 5%
//                 better.
//  sky noise      per native 0.396" pixel (nanomaggies): g 0.05, r 0.06, i 0.09
//                 (about twice the SDSS sky noise, which matches the graininess
//                 of the real JPEG cutouts after their stretch and compression);
//                 averaged down when the cutout pixel is larger, smoothly
//                 interpolated (correlated) when smaller, as resampling does.
//  stars          25% of cutouts hold 1-2 foreground stars (r 14-21, g-r 0.3-1.4);
//                 35% hold 1-2 neighbouring galaxies (r 17-21.5, exponential).
//  image          gri -> RGB = (i, r, g) scaled by (1.0, 1.15, 1.45), asinh stretch
//                 of Lupton et al. (2004) (alpha 0.8, Q 4) keeping colour ratios,
//                 colour differences about grey widened 1.4x (the cutouts look
//                 that saturated), JPEG quality 50 (they are strongly compressed).
#include "data/synth.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "data/csv.h"
#include "data/random.h"
#include "data/threads.h"
#include "kernels/error.h"

namespace gcnn {
namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kNativeScale = 0.396;  // SDSS arcsec per pixel
constexpr double kHubbleDistanceMpc = 299792.458 / 70.0;

double comoving_distance_mpc(double z) { return kHubbleDistanceMpc * (z - 0.225 * z * z); }
double luminosity_distance_mpc(double z) { return comoving_distance_mpc(z) * (1 + z); }
double kpc_per_arcsec(double z) { return comoving_distance_mpc(z) / (1 + z) * 1000.0 / 206264.8; }

// Sersic b_n (Ciotti & Bertin 1999 expansion) and the total flux of a profile
// with unit surface brightness at R_e: 2 pi n q R_e^2 e^b b^-2n Gamma(2n).
double sersic_b(double n) { return 2 * n - 1.0 / 3 + 4 / (405 * n) + 46 / (25515 * n * n); }
double sersic_unit_flux(double n, double re, double q) {
  double b = sersic_b(n);
  return 2 * kPi * n * q * re * re * std::exp(b) * std::pow(b, -2 * n) * std::tgamma(2 * n);
}

double draw_clipped_normal(Rng& rng, double mean, double sd, double lo, double hi) {
  for (int tries = 0; tries < 64; ++tries) {
    double v = rng.normal(mean, sd);
    if (v >= lo && v <= hi) return v;
  }
  return std::clamp(mean, lo, hi);
}

// A surface-brightness map in nanomaggies per native pixel for one band.
struct Map {
  int size;
  std::vector<float> v;
  explicit Map(int s) : size(s), v(static_cast<std::size_t>(s) * s, 0.0f) {}
  float& at(int y, int x) { return v[static_cast<std::size_t>(y) * size + x]; }
};

// Adds a Sersic profile of total flux `flux` (nmgy) centred at pixel position
// (cx, cy), sizes in pixels, over a bounding box of 8 R_e; pixels within 3 px of
// the centre are integrated on a 4x4 sub-grid.
void add_sersic(Map& map, double cx, double cy, double re, double q, double pa, double n, double flux,
                double native_per_cutout_area) {
  re = std::max(re, 0.05);
  const double b = sersic_b(n), norm = flux / sersic_unit_flux(n, re, q) * native_per_cutout_area;
  const double c = std::cos(pa), s = std::sin(pa);
  const bool exponential = n == 1.0;
  auto profile = [&](double x, double y) {
    double u = (x - cx) * c + (y - cy) * s, w = (-(x - cx) * s + (y - cy) * c) / q;
    double r = std::sqrt(u * u + w * w) / re;
    return std::exp(-b * ((exponential ? r : std::pow(r, 1 / n)) - 1));
  };
  const double reach = 8 * re + 2;
  const int x0 = std::max(0, static_cast<int>(cx - reach)), x1 = std::min(map.size - 1, static_cast<int>(cx + reach));
  const int y0 = std::max(0, static_cast<int>(cy - reach)), y1 = std::min(map.size - 1, static_cast<int>(cy + reach));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      double px = x + 0.5, py = y + 0.5, value = 0;
      if ((px - cx) * (px - cx) + (py - cy) * (py - cy) < 9) {
        for (int sy = 0; sy < 4; ++sy)
          for (int sx = 0; sx < 4; ++sx) value += profile(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4);
        value /= 16;
      } else {
        value = profile(px, py);
      }
      map.at(y, x) += static_cast<float>(norm * value);
    }
}

// Separable Gaussian blur with clamped edges. Rows are padded so the inner
// loops run without index clamping and vectorise.
Map gaussian_blur(const Map& in, double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<float> k(static_cast<std::size_t>(2 * radius + 1));
  double sum = 0;
  for (int i = -radius; i <= radius; ++i)
    sum += k[static_cast<std::size_t>(i + radius)] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (auto& w : k) w = static_cast<float>(w / sum);
  const int n = in.size, taps = 2 * radius + 1;
  Map tmp(n), out(n);
  std::vector<float> padded(static_cast<std::size_t>(n + 2 * radius));
  for (int y = 0; y < n; ++y) {
    const float* row = &in.v[static_cast<std::size_t>(y) * n];
    for (int x = 0; x < n + 2 * radius; ++x) padded[static_cast<std::size_t>(x)] = row[std::clamp(x - radius, 0, n - 1)];
    float* dst = &tmp.v[static_cast<std::size_t>(y) * n];
    for (int x = 0; x < n; ++x) {
      float acc = 0;
      for (int i = 0; i < taps; ++i) acc += k[static_cast<std::size_t>(i)] * padded[static_cast<std::size_t>(x + i)];
      dst[x] = acc;
    }
  }
  for (int y = 0; y < n; ++y) {
    float* dst = &out.v[static_cast<std::size_t>(y) * n];
    for (int i = 0; i < taps; ++i) {
      const float w = k[static_cast<std::size_t>(i)];
      const float* src = &tmp.v[static_cast<std::size_t>(std::clamp(y + i - radius, 0, n - 1)) * n];
      for (int x = 0; x < n; ++x) dst[x] += w * src[x];
    }
  }
  return out;
}

// Three box blurs approximate a Gaussian (variance 3 (w^2 - 1) / 12 for boxes
// of odd width w): constant cost per pixel whatever sigma. Running sums down
// the columns (all columns at once, so the loop vectorises), with clamped
// edges; rows are done by transposing.
void box_columns(std::vector<float>& v, int n, int radius) {
  const std::vector<float> src = v;
  std::vector<float> sum(static_cast<std::size_t>(n), 0.0f);
  auto row = [&](int y) { return &src[static_cast<std::size_t>(std::clamp(y, 0, n - 1)) * n]; };
  const float inv = 1.0f / static_cast<float>(2 * radius + 1);
  for (int y = -radius; y <= radius; ++y) {
    const float* r = row(y);
    for (int x = 0; x < n; ++x) sum[static_cast<std::size_t>(x)] += r[x];
  }
  for (int y = 0; y < n; ++y) {
    float* out = &v[static_cast<std::size_t>(y) * n];
    const float* enter = row(y + radius + 1);
    const float* leave = row(y - radius);
    for (int x = 0; x < n; ++x) {
      out[x] = sum[static_cast<std::size_t>(x)] * inv;
      sum[static_cast<std::size_t>(x)] += enter[x] - leave[x];
    }
  }
}
void transpose(std::vector<float>& v, int n) {
  for (int y = 0; y < n; ++y)
    for (int x = y + 1; x < n; ++x)
      std::swap(v[static_cast<std::size_t>(y) * n + x], v[static_cast<std::size_t>(x) * n + y]);
}
Map box_gaussian(const Map& in, double sigma) {
  const int width = std::max(1, static_cast<int>(std::lround((std::sqrt(4 * sigma * sigma + 1) - 1) / 2)) * 2 + 1);
  Map out = in;
  for (int pass = 0; pass < 3; ++pass) box_columns(out.v, out.size, width / 2);
  transpose(out.v, out.size);
  for (int pass = 0; pass < 3; ++pass) box_columns(out.v, out.size, width / 2);
  transpose(out.v, out.size);
  return out;
}

// PSF: 90% Gaussian core of the given FWHM (pixels) + 10% at 2.5x the width.
Map convolve_psf(const Map& in, double fwhm_px) {
  const double sigma = std::max(0.3, fwhm_px / 2.3548);
  // The core is a true Gaussian (box approximations make bright stars look
  // square); the faint wing is three box blurs.
  Map core = gaussian_blur(in, sigma), wing = box_gaussian(in, 2.5 * sigma);
  for (std::size_t i = 0; i < core.v.size(); ++i) core.v[i] = 0.9f * core.v[i] + 0.1f * wing.v[i];
  return core;
}

// Sky noise of per-native-pixel sigma on cutout pixels of `scale` arcsec.
void add_sky_noise(Map& map, double sigma_native, double scale, Rng& rng) {
  const int n = map.size;
  if (scale >= kNativeScale) {
    const double sigma = sigma_native * kNativeScale / scale;
    for (auto& v : map.v) v += static_cast<float>(sigma * rng.normal());
    return;
  }
  // Upsampled cutout: noise lives on native pixels, bilinearly interpolated.
  const double step = kNativeScale / scale;  // cutout pixels per native pixel
  const int g = static_cast<int>(std::ceil(n / step)) + 2;
  std::vector<float> grid(static_cast<std::size_t>(g) * g);
  for (auto& v : grid) v = static_cast<float>(sigma_native * rng.normal());
  for (int y = 0; y < n; ++y) {
    double fy = (y + 0.5) / step;
    int gy = std::min(static_cast<int>(fy), g - 2);
    double ty = fy - gy;
    for (int x = 0; x < n; ++x) {
      double fx = (x + 0.5) / step;
      int gx = std::min(static_cast<int>(fx), g - 2);
      double tx = fx - gx;
      auto at = [&](int yy, int xx) { return grid[static_cast<std::size_t>(yy) * g + xx]; };
      double v = (at(gy, gx) * (1 - tx) + at(gy, gx + 1) * tx) * (1 - ty) +
                 (at(gy + 1, gx) * (1 - tx) + at(gy + 1, gx + 1) * tx) * ty;
      map.at(y, x) += static_cast<float>(v);
    }
  }
}

constexpr double kBandScale[3] = {1.0, 1.15, 1.45};  // R <- i, G <- r, B <- g
constexpr double kStretchAlpha = 0.8, kStretchQ = 4.0, kSaturation = 1.4;

// Lupton et al. (2004) asinh stretch of (R, G, B) = (i, r, g) maps.
Image asinh_rgb(const Map& g, const Map& r, const Map& i) {
  const int n = g.size;
  Image out(n, n);
  for (std::size_t p = 0; p < g.v.size(); ++p) {
    double ch[3] = {i.v[p] * kBandScale[0], r.v[p] * kBandScale[1], g.v[p] * kBandScale[2]};
    double mean = (ch[0] + ch[1] + ch[2]) / 3;
    double f = mean > 1e-9 ? std::asinh(kStretchAlpha * kStretchQ * mean) / (kStretchQ * mean) : kStretchAlpha;
    // Stretch, then widen the colour differences about the grey level: the SDSS
    // cutouts are more saturated than a plain Lupton stretch.
    double grey = mean * f, top = 0;
    for (double& c : ch) top = std::max(top, c = std::max(0.0, grey + kSaturation * (c * f - grey)));
    double scale = top > 1 ? 1 / top : 1;
    for (int c = 0; c < 3; ++c)
      out.pixels[p * 3 + c] = static_cast<std::uint8_t>(std::lround(std::clamp(ch[c] * scale, 0.0, 1.0) * 255));
  }
  return out;
}

}  // namespace

double mass_metallicity(double x) { return -1.492 + 1.847 * x - 0.08026 * x * x; }

SynthGalaxy draw_galaxy(std::uint64_t seed, std::size_t index) {
  Rng rng(mix_seed({seed, index, 0x6A1A}));
  SynthGalaxy g;
  g.id = fmt::format("{}", 1237000000000000000ULL + (seed % 100000) * 1000000000ULL + index % 1000000000ULL);
  const double x = draw_clipped_normal(rng, 10.0, 0.55, 8.5, 11.4);
  g.log_mass = x;
  const double dz = draw_clipped_normal(rng, 0.0, 0.10, -0.35, 0.35);
  g.oh = mass_metallicity(x) + dz;
  g.ra = rng.uniform(120, 240);
  g.dec = rng.uniform(0, 60);

  const double bt_mean = 0.05 + 0.45 / (1 + std::exp(-(x - 10.6) / 0.3));
  g.bulge_fraction = std::clamp(bt_mean + rng.normal(0, 0.08), 0.0, 0.8);
  const double disk_re_kpc = std::pow(10.0, 0.45 + 0.15 * (x - 10) + rng.normal(0, 0.13));
  const double bulge_re_kpc = disk_re_kpc * rng.uniform(0.2, 0.5);
  g.bulge_sersic_n = rng.uniform(2.5, 4.0);

  const double cos_i = rng.uniform();
  g.axis_ratio = std::sqrt(cos_i * cos_i * (1 - 0.15 * 0.15) + 0.15 * 0.15);
  g.bulge_axis_ratio = rng.uniform(0.7, 1.0);
  g.position_angle = rng.uniform(0, kPi);
  const double dust = 0.15 * (1 - cos_i) * std::clamp((x - 9) / 2, 0.0, 1.0);
  g.disk_gr = 0.30 + 0.15 * (x - 10) + 0.5 * dz + dust + rng.normal(0, 0.04);
  g.disk_ri = 0.15 + 0.05 * (x - 10) + 0.2 * dz + 0.4 * dust + rng.normal(0, 0.03);
  g.bulge_gr = 0.75 + 0.03 * (x - 10) + rng.normal(0, 0.03);
  g.bulge_ri = 0.38 + rng.normal(0, 0.02);
  g.arm_amplitude = rng.uniform(0, 0.6) * (1 - g.bulge_fraction);
  g.arm_pitch = rng.uniform(12, 30) * kPi / 180;
  g.arm_phase = rng.uniform(0, 2 * kPi);
  g.seeing_fwhm = draw_clipped_normal(rng, 1.35, 0.2, 0.9, 2.0);

  // Luminosity from the mass and the r-weighted g-r colour.
  const double total_gr = g.bulge_fraction * g.bulge_gr + (1 - g.bulge_fraction) * g.disk_gr;
  const double abs_r = 4.65 - 2.5 * (x - (-0.306 + 1.097 * total_gr));
  double z = rng.uniform(0.02, 0.15);
  for (int tries = 0; tries < 32; ++tries) {
    g.r_mag = abs_r + 5 * std::log10(luminosity_distance_mpc(z) * 1e5);
    if (g.r_mag < 17.77) break;
    z = rng.uniform(0.01, z);
  }
  g.redshift = z;
  g.disk_gr += 0.8 * z;
  g.bulge_gr += 0.8 * z;
  g.disk_ri += 0.3 * z;
  g.bulge_ri += 0.3 * z;

  const double kpc = kpc_per_arcsec(z);
  g.disk_re_arcsec = disk_re_kpc / kpc;
  g.bulge_re_arcsec = bulge_re_kpc / kpc;
  const double r90 = ((1 - g.bulge_fraction) * 2.3 * g.disk_re_arcsec + g.bulge_fraction * 2.9 * g.bulge_re_arcsec) *
                     std::pow(g.axis_ratio, 0.25);
  g.petro_r90 = std::sqrt(r90 * r90 + g.seeing_fwhm * g.seeing_fwhm);
  g.render_seed = rng.next_u64();
  return g;
}

Image render_galaxy(const SynthGalaxy& g, int size) {
  GCNN_CHECK(size >= 8, "render_galaxy: size {} too small (at least 8 px)", size);
  Rng rng(g.render_seed);
  const double scale = 4 * g.petro_r90 / size;  // arcsec per cutout pixel
  // Maps hold surface brightness per native pixel: flux per cutout pixel times this.
  const double area = (kNativeScale / scale) * (kNativeScale / scale);
  const double cx = size / 2.0 + rng.normal(0, 0.4), cy = size / 2.0 + rng.normal(0, 0.4);

  // Component maps in unit r flux: disk (smooth and arm modulation) and bulge.
  Map disk(size), arms(size), bulge(size);
  add_sersic(bulge, cx, cy, g.bulge_re_arcsec / scale, g.bulge_axis_ratio, g.position_angle, g.bulge_sersic_n, 1.0,
             area);
  add_sersic(disk, cx, cy, g.disk_re_arcsec / scale, g.axis_ratio, g.position_angle, 1.0, 1.0, area);
  if (g.arm_amplitude > 0.02) {
    const double c = std::cos(g.position_angle), s = std::sin(g.position_angle);
    const double re = g.disk_re_arcsec / scale, wind = 1 / std::tan(g.arm_pitch);
    // Arms only where the disk is brighter than 1e-4 of its centre (r < 5.5 R_e).
    const double reach = 5.5 * re + 2;
    const int x0 = std::max(0, static_cast<int>(cx - reach)), x1 = std::min(size - 1, static_cast<int>(cx + reach));
    const int y0 = std::max(0, static_cast<int>(cy - reach)), y1 = std::min(size - 1, static_cast<int>(cy + reach));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        double u = dx * c + dy * s, w = (-dx * s + dy * c) / g.axis_ratio;
        double r = std::sqrt(u * u + w * w) + 1e-6;
        if (r > 5.5 * re) continue;
        double theta = std::atan2(w, u);
        arms.at(y, x) = disk.at(y, x) * static_cast<float>(std::cos(2 * (theta - wind * std::log(r / re)) - g.arm_phase));
      }
  }

  // Band fluxes (nanomaggies) of each component.
  const double flux_r = std::pow(10.0, (22.5 - g.r_mag) / 2.5);
  const double disk_r = flux_r * (1 - g.bulge_fraction), bulge_r = flux_r * g.bulge_fraction;
  const double disk_flux[3] = {disk_r * std::pow(10.0, -0.4 * g.disk_gr), disk_r, disk_r * std::pow(10.0, 0.4 * g.disk_ri)};
  const double bulge_flux[3] = {bulge_r * std::pow(10.0, -0.4 * g.bulge_gr), bulge_r,
                                bulge_r * std::pow(10.0, 0.4 * g.bulge_ri)};
  const double arm_boost[3] = {1.4, 1.0, 0.75};  // star-forming arms are bluer
  std::vector<Map> band(3, Map(size));
  for (int b = 0; b < 3; ++b)
    for (std::size_t p = 0; p < band[b].v.size(); ++p)
      band[b].v[p] = static_cast<float>(disk_flux[b] * (disk.v[p] + g.arm_amplitude * arm_boost[b] * arms.v[p]) +
                                        bulge_flux[b] * bulge.v[p]);

  // Point sources (stars, star-forming knots) before the PSF: bilinear splats.
  auto add_point = [&](double px, double py, const double (&flux)[3]) {
    int ix = std::clamp(static_cast<int>(px), 0, size - 2), iy = std::clamp(static_cast<int>(py), 0, size - 2);
    double tx = std::clamp(px - ix, 0.0, 1.0), ty = std::clamp(py - iy, 0.0, 1.0);
    for (int b = 0; b < 3; ++b) {
      double f = flux[b] * area;
      band[b].at(iy, ix) += static_cast<float>(f * (1 - tx) * (1 - ty));
      band[b].at(iy, ix + 1) += static_cast<float>(f * tx * (1 - ty));
      band[b].at(iy + 1, ix) += static_cast<float>(f * (1 - tx) * ty);
      band[b].at(iy + 1, ix + 1) += static_cast<float>(f * tx * ty);
    }
  };
  // Blue star-forming knots, exponentially distributed in the disk plane.
  const int knots = static_cast<int>(rng.uniform(0, 14) * (1 - g.bulge_fraction));
  const double scale_length = g.disk_re_arcsec / scale / 1.678;
  for (int k = 0; k < knots; ++k) {
    double radius = -scale_length * std::log(std::max(1e-12, rng.uniform() * rng.uniform()));
    double theta = rng.uniform(0, 2 * kPi);
    double u = radius * std::cos(theta), w = radius * std::sin(theta) * g.axis_ratio;
    double c = std::cos(g.position_angle), s = std::sin(g.position_angle);
    double fr = disk_r * rng.uniform(0.003, 0.015), gr = rng.uniform(0.0, 0.2) + 0.8 * g.redshift;
    const double fl[3] = {fr * std::pow(10.0, -0.4 * gr), fr, fr * std::pow(10.0, 0.4 * (rng.uniform(-0.1, 0.05)))};
    add_point(cx + u * c - w * s, cy + u * s + w * c, fl);
  }

  // Neighbouring galaxies and foreground stars.
  if (rng.chance(0.35)) {
    const int count = rng.chance(0.3) ? 2 : 1;
    for (int k = 0; k < count; ++k) {
      double nx = rng.uniform(0, size), ny = rng.uniform(0, size);
      double re = rng.uniform(0.5, 2.5) / scale, q = rng.uniform(0.3, 1.0), pa = rng.uniform(0, kPi);
      double fr = std::pow(10.0, (22.5 - rng.uniform(17, 21.5)) / 2.5), gr = rng.uniform(0.4, 1.2);
      double fl[3] = {fr * std::pow(10.0, -0.4 * gr), fr, fr * std::pow(10.0, 0.4 * (0.4 * gr))};
      for (int b = 0; b < 3; ++b) add_sersic(band[b], nx, ny, re, q, pa, 1.0, fl[b], area);
    }
  }
  if (rng.chance(0.25)) {
    const int count = rng.chance(0.3) ? 2 : 1;
    for (int k = 0; k < count; ++k) {
      double sx, sy;
      do {
        sx = rng.uniform(0, size);
        sy = rng.uniform(0, size);
      } while (std::hypot(sx - cx, sy - cy) < 0.15 * size);
      double fr = std::pow(10.0, (22.5 - rng.uniform(14, 21)) / 2.5), gr = rng.uniform(0.3, 1.4);
      const double fl[3] = {fr * std::pow(10.0, -0.4 * gr), fr, fr * std::pow(10.0, 0.4 * (0.4 * gr - 0.05))};
      add_point(sx, sy, fl);
    }
  }

  const double seeing_factor[3] = {1.08, 1.0, 0.95};
  const double sky_sigma[3] = {0.05, 0.06, 0.09};
  for (int b = 0; b < 3; ++b) {
    band[b] = convolve_psf(band[b], g.seeing_fwhm * seeing_factor[b] / scale);
    add_sky_noise(band[b], sky_sigma[b], scale, rng);
  }
  return asinh_rgb(band[0], band[1], band[2]);
}

void check_synth_request(std::int64_t n, const SynthOptions& options) {
  GCNN_INPUT_CHECK(n >= 1 && n <= kSynthMaxGalaxies, "synth: --n {}: must be in [1, {}]", n, kSynthMaxGalaxies);
  GCNN_INPUT_CHECK(options.size >= kSynthMinSize && options.size <= kSynthMaxSize, "synth: --size {}: must be in [{}, {}]",
                   options.size, kSynthMinSize, kSynthMaxSize);
  GCNN_INPUT_CHECK(options.jpeg_quality >= 1 && options.jpeg_quality <= 100, "synth: --quality {}: must be in [1, 100]",
                   options.jpeg_quality);
  check_worker_count(options.threads, "synth: --threads");
}

std::vector<SynthGalaxy> write_synthetic_dataset(const fs::path& out, std::size_t n, const SynthOptions& options) {
  check_synth_request(static_cast<std::int64_t>(std::min<std::size_t>(n, INT64_MAX)), options);
  std::vector<SynthGalaxy> galaxies(n);
  for (std::size_t i = 0; i < n; ++i) galaxies[i] = draw_galaxy(options.seed, i);
  const fs::path image_dir = out / "images";
  std::error_code ec;
  fs::create_directories(image_dir, ec);
  GCNN_CHECK(!ec, "synth: cannot create {}: {}", image_dir.string(), ec.message());

  std::atomic<std::size_t> next{0};
  std::vector<std::string> errors(n);
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        Image img = render_galaxy(galaxies[i], options.size);
        write_file_atomic(image_dir / (galaxies[i].id + ".jpg"), encode_jpeg(img, options.jpeg_quality));
      } catch (const Error& e) {
        errors[i] = e.what();
      }
    }
  };
  unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                         : std::max(1u, std::thread::hardware_concurrency());
  run_on_threads(threads, work);
  for (const auto& e : errors) GCNN_CHECK(e.empty(), "{}", e);

  std::string csv = csv_line({"objID", "oh_p50", "lgm_tot_p50", "ra", "dec", "petroR90_r"});
  for (const auto& g : galaxies)
    csv += csv_line({g.id, fmt::format("{:.6f}", g.oh), fmt::format("{:.6f}", g.log_mass), fmt::format("{:.6f}", g.ra),
                     fmt::format("{:.6f}", g.dec), fmt::format("{:.4f}", g.petro_r90)});
  write_file_atomic(out / "catalog.csv", csv);
  return galaxies;
}

}  // namespace gcnn
