// Fuzz target: safetensors files, header and tensors (layers/safetensors
// parse_safetensors), and the checkpoint metadata predict reads from them
// (train/checkpoint read_normalisation). Invariants: a file that parses holds
// f32 CPU tensors of its shapes; written back with encode_safetensors it
// parses to the same names, shapes, metadata and value bits; require_finite
// passes only for finite values; normalisation metadata that reads has one
// finite mean and positive finite std per target and positive channel stds.
#include <cmath>
#include <cstring>

#include "layers/safetensors.h"
#include "tests/fuzz/fuzz_support.h"
#include "train/checkpoint.h"

namespace gcnn::fuzz {
namespace {

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_vector(), y = b.to_vector();
  return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
}

void check_normalisation(const Safetensors& st) {
  const auto norm = unless_rejected([&] { return train::read_normalisation(st.metadata, "fuzz.safetensors"); });
  if (!norm) return;
  const std::size_t n = norm->target_names.size();
  FUZZ_REQUIRE(norm->target_mean.size() == n && norm->target_std.size() == n, "{} names, {} means, {} stds", n,
               norm->target_mean.size(), norm->target_std.size());
  for (std::size_t i = 0; i < n; ++i)
    FUZZ_REQUIRE(std::isfinite(norm->target_mean[i]) && std::isfinite(norm->target_std[i]) && norm->target_std[i] > 0,
                 "target {}: mean {}, std {}", i, norm->target_mean[i], norm->target_std[i]);
  for (int c = 0; c < 3; ++c)
    FUZZ_REQUIRE(std::isfinite(norm->channel_stats.mean[c]) && std::isfinite(norm->channel_stats.std[c]) &&
                     norm->channel_stats.std[c] > 0,
                 "channel {}: mean {}, std {}", c, norm->channel_stats.mean[c], norm->channel_stats.std[c]);
}

}  // namespace

void safetensors(std::string_view bytes) {
  const auto st = unless_rejected([&] { return parse_safetensors(bytes, "fuzz.safetensors"); });
  if (!st) return;
  bool finite = true;
  for (const auto& [name, t] : st->tensors) {
    FUZZ_REQUIRE(t.defined() && t.dtype() == DType::F32 && t.device().is_cpu(), "tensor '{}' is {}", name,
                 t.describe());
    FUZZ_REQUIRE(t.numel() == shape_numel(t.shape()), "tensor '{}': {} elements for shape {}", name, t.numel(),
                 shape_str(t.shape()));
    finite = finite && all_finite(t);
  }
  const bool accepted_finite = unless_rejected([&] {
                                 require_finite(st->tensors, "fuzz.safetensors");
                                 return true;
                               }).has_value();
  FUZZ_REQUIRE(accepted_finite == finite, "require_finite says {} for tensors that are {}finite", accepted_finite,
               finite ? "" : "not ");

  const std::string encoded = encode_safetensors(st->tensors, st->metadata);
  const Safetensors again =
      must_accept("the file written back", [&] { return parse_safetensors(encoded, "rewritten.safetensors"); });
  FUZZ_REQUIRE(again.metadata == st->metadata, "metadata changed when written back ({} entries became {})",
               st->metadata.size(), again.metadata.size());
  FUZZ_REQUIRE(again.tensors.size() == st->tensors.size(), "{} tensors became {}", st->tensors.size(),
               again.tensors.size());
  for (const auto& [name, t] : st->tensors) {
    const auto it = again.tensors.find(name);
    FUZZ_REQUIRE(it != again.tensors.end(), "tensor '{}' lost when written back", name);
    FUZZ_REQUIRE(it->second.shape() == t.shape() && same_bits(it->second, t), "tensor '{}' changed when written back",
                 name);
  }
  check_normalisation(*st);
}

}  // namespace gcnn::fuzz

GCNN_FUZZ_TARGET(gcnn::fuzz::safetensors)
