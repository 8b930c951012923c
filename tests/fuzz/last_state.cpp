// Fuzz target: training state files, RUN_DIR/last.state (train/checkpoint
// read_progress over parse_safetensors). Invariants of a state that reads:
// its tensors are finite and named model.*, or after the optimizer's state
// (SGD's momentum.*, AdamW's exp_avg.*, exp_avg_sq.*, step.*), epochs_done is in
// [0, kMaxEpochs], global_step a non-negative whole number, best_val_rmse
// finite and >= -1; written back with encode_state it reads to the same
// progress and the same tensor bits.
#include <cmath>
#include <cstring>

#include "layers/safetensors.h"
#include "tests/fuzz/fuzz_support.h"
#include "train/checkpoint.h"
#include "train/config.h"

namespace gcnn::fuzz {

void last_state(std::string_view bytes) {
  const auto st = unless_rejected([&] { return parse_safetensors(bytes, "last.state"); });
  if (!st) return;
  const auto progress = unless_rejected([&] { return train::read_progress(*st, "last.state"); });
  if (!progress) return;
  FUZZ_REQUIRE(progress->epochs_done >= 0 && progress->epochs_done <= train::kMaxEpochs, "epochs_done {}",
               progress->epochs_done);
  FUZZ_REQUIRE(progress->global_step >= 0, "global_step {}", progress->global_step);
  FUZZ_REQUIRE(std::isfinite(progress->best_val_rmse) && progress->best_val_rmse >= -1, "best_val_rmse {}",
               progress->best_val_rmse);
  for (const auto& [name, t] : st->tensors) {
    FUZZ_REQUIRE(name.starts_with("model.") || name.starts_with("momentum.") || name.starts_with("exp_avg.") ||
                     name.starts_with("exp_avg_sq.") || name.starts_with("step."),
                 "tensor '{}' accepted", name);
    for (float v : t.to_vector()) FUZZ_REQUIRE(std::isfinite(v), "tensor '{}' holds {}", name, v);
  }

  const std::string encoded = train::encode_state(st->tensors, *progress, train::saved_optimizer(*st, "last.state"));
  const Safetensors again = must_accept("the state written back", [&] { return parse_safetensors(encoded, "re.state"); });
  const train::Progress reread = must_accept("the state written back", [&] { return train::read_progress(again, "re.state"); });
  FUZZ_REQUIRE(reread.epochs_done == progress->epochs_done && reread.global_step == progress->global_step &&
                   std::memcmp(&reread.best_val_rmse, &progress->best_val_rmse, sizeof(double)) == 0,
               "progress {}/{}/{} became {}/{}/{}", progress->epochs_done, progress->global_step,
               progress->best_val_rmse, reread.epochs_done, reread.global_step, reread.best_val_rmse);
  FUZZ_REQUIRE(again.tensors.size() == st->tensors.size(), "{} tensors became {}", st->tensors.size(),
               again.tensors.size());
  for (const auto& [name, t] : st->tensors) {
    const auto it = again.tensors.find(name);
    FUZZ_REQUIRE(it != again.tensors.end() && it->second.shape() == t.shape() &&
                     it->second.to_vector() == t.to_vector(),
                 "tensor '{}' changed when written back", name);
  }
}

}  // namespace gcnn::fuzz

GCNN_FUZZ_TARGET(gcnn::fuzz::last_state)
