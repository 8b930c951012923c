// WinogradConv3x3: each OpenMP thread takes whole chunks of tiles in turn and
// runs all three stages on them in its own scratch, so a convolution is one
// parallel region with no barrier inside: the input transform and the output
// transform are AVX2 code (one __m256 holds the 8 channels of a block), the
// 16 products [tiles, C] x [C, K] are dnnl_sgemm calls, single-threaded
// there. (One batched oneDNN matmul per chunk over all threads, with the
// transforms split between threads, ran several times slower on a loaded
// 2-core machine: three barriers per chunk.) The matrices of F(2x2, 3x3)
// (Lavin & Gray 2016):
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
#include "kernels/cpu/winograd.h"

#include <immintrin.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "kernels/error.h"

namespace gcnn::cpu {
namespace {

constexpr std::int64_t kBlock = 8;  // channels per block of nChw8c

std::int64_t blocks(std::int64_t channels) { return (channels + kBlock - 1) / kBlock; }

// The sizes the transforms share.
struct Geometry {
  std::int64_t h, w;    // image (input and output) size
  std::int64_t cb, kb;  // channel blocks of the input and the output
  std::int64_t th, tw;  // tiles per column and row
  std::int64_t tiles;   // n th tw
  std::int64_t chunk;   // tiles per chunk
};

// v[xi][tile][c] = (B^T d B)[xi] for the tiles [first, first + chunk) of src.
__attribute__((target("avx2,fma"))) void transform_patches(const Geometry& g, const float* src, float* v,
                                                           std::int64_t first) {
  const std::int64_t row = g.cb * kBlock, xi_stride = g.chunk * row;
  const __m256 zero = _mm256_setzero_ps();
  for (std::int64_t item = 0; item < g.chunk * g.cb; ++item) {
    const std::int64_t local = item / g.cb, cb = item % g.cb, tile = first + local;
    if (tile >= g.tiles) break;
    const std::int64_t n = tile / (g.th * g.tw), ty = tile / g.tw % g.th, tx = tile % g.tw;
    const float* plane = src + (n * g.cb + cb) * g.h * g.w * kBlock;
    __m256 d[4][4];
    for (std::int64_t i = 0; i < 4; ++i) {
      const std::int64_t y = 2 * ty - 1 + i;
      for (std::int64_t j = 0; j < 4; ++j) {
        const std::int64_t x = 2 * tx - 1 + j;
        d[i][j] = (y >= 0 && y < g.h && x >= 0 && x < g.w) ? _mm256_loadu_ps(plane + (y * g.w + x) * kBlock) : zero;
      }
    }
    __m256 t[4][4];  // B^T d
    for (int j = 0; j < 4; ++j) {
      t[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
      t[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
      t[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
      t[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
    }
    float* out = v + local * row + cb * kBlock;
    for (int i = 0; i < 4; ++i) {  // (B^T d) B
      _mm256_storeu_ps(out + (4 * i + 0) * xi_stride, _mm256_sub_ps(t[i][0], t[i][2]));
      _mm256_storeu_ps(out + (4 * i + 1) * xi_stride, _mm256_add_ps(t[i][1], t[i][2]));
      _mm256_storeu_ps(out + (4 * i + 2) * xi_stride, _mm256_sub_ps(t[i][2], t[i][1]));
      _mm256_storeu_ps(out + (4 * i + 3) * xi_stride, _mm256_sub_ps(t[i][1], t[i][3]));
    }
  }
}

// dst's 2x2 outputs of the chunk's tiles from m[xi][tile][k]: A^T m A + bias, then the epilogue.
__attribute__((target("avx2,fma"))) void transform_products(const Geometry& g, const float* m, const float* bias,
                                                            float* dst, WinogradConv3x3::Epilogue epilogue,
                                                            std::int64_t first) {
  const std::int64_t row = g.kb * kBlock, xi_stride = g.chunk * row;
  const __m256 zero = _mm256_setzero_ps();
  for (std::int64_t item = 0; item < g.chunk * g.kb; ++item) {
    const std::int64_t local = item / g.kb, kb = item % g.kb, tile = first + local;
    if (tile >= g.tiles) break;
    const std::int64_t n = tile / (g.th * g.tw), ty = tile / g.tw % g.th, tx = tile % g.tw;
    const float* in = m + local * row + kb * kBlock;
    __m256 p[16];
    for (int xi = 0; xi < 16; ++xi) p[xi] = _mm256_loadu_ps(in + xi * xi_stride);
    __m256 s[2][4];  // A^T m
    for (int j = 0; j < 4; ++j) {
      s[0][j] = _mm256_add_ps(_mm256_add_ps(p[j], p[4 + j]), p[8 + j]);
      s[1][j] = _mm256_sub_ps(_mm256_sub_ps(p[4 + j], p[8 + j]), p[12 + j]);
    }
    const __m256 b = _mm256_loadu_ps(bias + kb * kBlock);
    float* plane = dst + (n * g.kb + kb) * g.h * g.w * kBlock;
    for (int i = 0; i < 2; ++i) {
      const std::int64_t y = 2 * ty + i;
      if (y >= g.h) break;
      const __m256 out[2] = {_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s[i][0], s[i][1]), s[i][2]), b),
                             _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s[i][1], s[i][2]), s[i][3]), b)};
      for (int j = 0; j < 2; ++j) {
        const std::int64_t x = 2 * tx + j;
        if (x >= g.w) break;
        float* at = plane + (y * g.w + x) * kBlock;
        __m256 r = out[j];
        if (epilogue == WinogradConv3x3::Epilogue::sum_relu) r = _mm256_add_ps(r, _mm256_loadu_ps(at));
        if (epilogue != WinogradConv3x3::Epilogue::none) r = _mm256_max_ps(r, zero);
        _mm256_storeu_ps(at, r);
      }
    }
  }
}

}  // namespace

struct WinogradConv3x3::Impl {
  Geometry g;
  Epilogue epilogue;
  int threads;                 // OpenMP's at construction: each has its share of the scratch
  std::shared_ptr<const WinogradWeights> weights;
  std::size_t thread_floats() const { return static_cast<std::size_t>(16 * g.chunk * (g.cb + g.kb) * kBlock); }
};

bool WinogradConv3x3::available() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

WinogradWeights::WinogradWeights(const Tensor& weight, const Tensor& bias) {
  GCNN_CHECK(weight.ndim() == 4 && weight.dim(2) == 3 && weight.dim(3) == 3 && weight.dtype() == DType::F32 &&
                 weight.device().is_cpu(),
             "winograd conv3x3: needs FP32 [K, C, 3, 3] weights on the CPU, got {}", weight.describe());
  GCNN_CHECK(bias.ndim() == 1 && bias.dim(0) == weight.dim(0) && bias.dtype() == DType::F32 && bias.device().is_cpu(),
             "winograd conv3x3: bias {} for weights {}", bias.describe(), weight.describe());
  k = weight.dim(0);
  c = weight.dim(1);
  const std::int64_t cp = blocks(c) * kBlock, kp = blocks(k) * kBlock;
  this->bias.assign(static_cast<std::size_t>(kp), 0.0f);
  std::copy_n(bias.data<float>(), k, this->bias.begin());
  u.assign(static_cast<std::size_t>(16 * cp * kp), 0.0f);
  // U = G g G^T per (output, input) channel, in double.
  const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  const float* wt = weight.data<float>();
  for (std::int64_t o = 0; o < k; ++o)
    for (std::int64_t i = 0; i < c; ++i) {
      const float* f = wt + (o * c + i) * 9;
      double gg[4][3];  // G g
      for (int r = 0; r < 4; ++r)
        for (int q = 0; q < 3; ++q) gg[r][q] = G[r][0] * f[q] + G[r][1] * f[3 + q] + G[r][2] * f[6 + q];
      for (int r = 0; r < 4; ++r)
        for (int q = 0; q < 4; ++q)
          u[static_cast<std::size_t>(((4 * r + q) * cp + i) * kp + o)] =
              static_cast<float>(gg[r][0] * G[q][0] + gg[r][1] * G[q][1] + gg[r][2] * G[q][2]);
    }
}

WinogradConv3x3::WinogradConv3x3(std::shared_ptr<const WinogradWeights> weights, std::int64_t n, std::int64_t h,
                                 std::int64_t w, Epilogue epilogue, std::size_t chunk_bytes) {
  GCNN_CHECK(available(), "winograd conv3x3: needs a CPU with AVX2 and FMA");
  GCNN_CHECK(weights, "winograd conv3x3: no weights");
  GCNN_CHECK(n > 0 && h > 0 && w > 0, "winograd conv3x3: input of {} images of {}x{}", n, h, w);
  Geometry g{h, w, blocks(weights->c), blocks(weights->k), (h + 1) / 2, (w + 1) / 2, 0, 0};
  g.tiles = n * g.th * g.tw;
  const std::int64_t per_tile = 16 * std::max(g.cb, g.kb) * kBlock * static_cast<std::int64_t>(sizeof(float));
  g.chunk = std::clamp<std::int64_t>(static_cast<std::int64_t>(chunk_bytes) / per_tile, 1, g.tiles);
  impl_ = std::make_unique<Impl>(Impl{g, epilogue, omp_get_max_threads(), std::move(weights)});
}

WinogradConv3x3::~WinogradConv3x3() = default;

std::size_t WinogradConv3x3::scratch_floats() const { return impl_->thread_floats() * impl_->threads; }

void WinogradConv3x3::run(const float* src, float* dst, float* scratch) const {
  const Geometry& g = impl_->g;
  const std::int64_t cp = g.cb * kBlock, kp = g.kb * kBlock, chunks = (g.tiles + g.chunk - 1) / g.chunk;
  std::int64_t failed = 0;  // a dnnl_sgemm status other than success
#pragma omp parallel num_threads(impl_->threads) reduction(+ : failed)
  {
    float* v = scratch + impl_->thread_floats() * static_cast<std::size_t>(omp_get_thread_num());
    float* m = v + 16 * g.chunk * cp;
    for (std::int64_t chunk = omp_get_thread_num(); chunk < chunks; chunk += omp_get_num_threads()) {
      const std::int64_t first = chunk * g.chunk;
      transform_patches(g, src, v, first);
      // The rows of a last, partial chunk beyond the tiles are multiplied too, and their products never read.
      for (std::int64_t xi = 0; xi < 16; ++xi)
        failed +=
            dnnl_sgemm('N', 'N', g.chunk, kp, cp, 1.0f, v + xi * g.chunk * cp, cp,
                       impl_->weights->u.data() + xi * cp * kp, kp, 0.0f, m + xi * g.chunk * kp, kp) != dnnl_success;
      transform_products(g, m, impl_->weights->bias.data(), dst, impl_->epilogue, first);
    }
  }
  GCNN_CHECK(failed == 0, "winograd conv3x3: dnnl_sgemm failed {} times", failed);
}

}  // namespace gcnn::cpu
