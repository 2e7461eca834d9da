// SPDX-License-Identifier: MIT
// Tests for include/distill/callbacks/checkpoint.hpp: cadence, the end save, {step} paths, refusals.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "distill/callbacks/checkpoint.hpp"

namespace cb = distill::callbacks;
using Catch::Matchers::Contains;

namespace {
/// Runs `steps` steps with `ckpt` and returns the paths it asked to save (as strings, in order).
std::vector<std::string> run(cb::Checkpoint& ckpt, std::size_t steps, std::size_t first_step = 0) {
  std::vector<std::string> saved;
  cb::TrainingState s{.step = first_step, .total_steps = steps};
  s.save_checkpoint = [&](const std::filesystem::path& p) { saved.push_back(p.string() + "@" + std::to_string(s.step)); };
  ckpt.on_begin(s);
  for (std::size_t i = first_step + 1; i <= steps; ++i) {
    s.step = i;
    ckpt.on_step(s);
  }
  ckpt.on_end(s);
  return saved;
}
}  // namespace

TEST_CASE("Checkpoint: saves every N steps and once at the end", "[callbacks][checkpoint]") {
  cb::Checkpoint ckpt{.path = "state.bin", .every = 3};
  REQUIRE(run(ckpt, 10) == std::vector<std::string>{"state.bin@3", "state.bin@6", "state.bin@9", "state.bin@10"});
  REQUIRE(ckpt.saves == 4);
  REQUIRE(ckpt.last_saved_step == 10);
  REQUIRE(ckpt.last_path == "state.bin");

  // No extra end save when the last step was just saved.
  REQUIRE(run(ckpt, 9).size() == 3);
  // at_end = false: only the cadence.
  cb::Checkpoint no_end{.path = "s", .every = 4, .at_end = false};
  REQUIRE(run(no_end, 10) == std::vector<std::string>{"s@4", "s@8"});
  // every = 0: only at the end.
  cb::Checkpoint end_only{.path = "s", .every = 0};
  REQUIRE(run(end_only, 10) == std::vector<std::string>{"s@10"});
  // A resumed run (starting at step 6) keeps the global cadence.
  cb::Checkpoint resumed{.path = "s", .every = 4};
  REQUIRE(run(resumed, 10, 6) == std::vector<std::string>{"s@8", "s@10"});
}

TEST_CASE("Checkpoint: {step} in the path keeps every checkpoint", "[callbacks][checkpoint]") {
  cb::Checkpoint ckpt{.path = "out/ckpt_{step}.npz", .every = 5};
  REQUIRE(run(ckpt, 12) == std::vector<std::string>{"out/ckpt_5.npz@5", "out/ckpt_10.npz@10", "out/ckpt_12.npz@12"});
  REQUIRE(ckpt.path_for(123) == "out/ckpt_123.npz");
  cb::Checkpoint twice{.path = "{step}/{step}.bin"};
  REQUIRE(twice.path_for(7) == "7/7.bin");
}

TEST_CASE("Checkpoint: refuses an empty path and methods without save support", "[callbacks][checkpoint]") {
  cb::TrainingState s{.phase = "kip"};
  cb::Checkpoint empty{};
  REQUIRE_THROWS_WITH(empty.on_begin(s), Contains("path is empty"));

  cb::Checkpoint ckpt{.path = "x", .every = 1};
  ckpt.on_begin(s);
  s.step = 1;
  REQUIRE_THROWS_AS(ckpt.on_step(s), distill::invalid_argument);
  REQUIRE_THROWS_WITH(ckpt.on_step(s), Contains("does not support checkpoints") && Contains("kip"));
  REQUIRE(ckpt.saves == 0);
}
