// The CPU backend's building block for long sums: eight float lanes (which the
// compiler vectorises) folded into a double at the end, so per-channel
// reductions are fast and keep float64 accuracy across planes.
#pragma once

#include <cstdint>

namespace gcnn::cpu {

// sum over i in [0, n) of term(i), where term returns float.
template <class Term>
inline double lane_sum(std::int64_t n, Term term) {
  float lanes[8] = {};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) lanes[l] += term(i + l);
  double s = 0.0;
  for (; i < n; ++i) s += term(i);
  for (float l : lanes) s += l;
  return s;
}

// Two sums in one pass: (sum of first(i), sum of second(i)).
template <class First, class Second>
inline void lane_sum2(std::int64_t n, First first, Second second, double& first_sum, double& second_sum) {
  float a[8] = {}, b[8] = {};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) {
      a[l] += first(i + l);
      b[l] += second(i + l);
    }
  double sa = 0.0, sb = 0.0;
  for (; i < n; ++i) {
    sa += first(i);
    sb += second(i);
  }
  for (int l = 0; l < 8; ++l) {
    sa += a[l];
    sb += b[l];
  }
  first_sum += sa;
  second_sum += sb;
}

}  // namespace gcnn::cpu
