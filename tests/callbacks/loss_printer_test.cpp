// SPDX-License-Identifier: MIT
// Tests for include/distill/callbacks/loss_printer.hpp.
#include <catch2/catch.hpp>

#include <sstream>

#include "distill/callbacks/loss_printer.hpp"

namespace cb = distill::callbacks;

TEST_CASE("LossPrinter: one line every N steps and per epoch", "[callbacks][loss_printer]") {
  std::ostringstream out;
  cb::LossPrinter p{.every = 2, .out = &out};
  cb::TrainingState s{.total_steps = 5, .total_epochs = 2, .phase = "train"};
  for (std::size_t i = 1; i <= 5; ++i) {
    s.step = i;
    s.loss = 0.5 * double(i);
    p.on_step(s);
  }
  s.epoch = 1;
  s.metrics["acc"] = 0.75;
  p.on_epoch_end(s);
  REQUIRE(out.str() == "train step 2/5  loss 1\ntrain step 4/5  loss 2\ntrain epoch 1/2  loss 2.5  acc 0.75\n");

  std::ostringstream quiet;
  cb::LossPrinter none{.every = 0, .epochs = false, .out = &quiet};
  none.on_step(s);
  none.on_epoch_end(s);
  REQUIRE(quiet.str().empty());
  cb::LossPrinter null_out{.out = nullptr};
  s.step = 100;
  REQUIRE_NOTHROW(null_out.on_step(s));

  // Unknown totals and no loss yet.
  std::ostringstream o2;
  cb::LossPrinter p2{.every = 1, .out = &o2};
  cb::TrainingState t{.step = 3};
  p2.on_step(t);
  REQUIRE(o2.str() == "step 3\n");
}
