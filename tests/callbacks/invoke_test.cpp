// SPDX-License-Identifier: MIT
// Tests for include/distill/callbacks/invoke.hpp and state.hpp: optional hooks, void/bool returns, no
// short-circuit, and the order of calls.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "distill/callbacks.hpp"

namespace cb = distill::callbacks;

namespace {

struct Log {
  std::vector<std::string> calls;
};

// Every hook, returning void.
struct AllVoid {
  Log* log;
  void on_begin(cb::TrainingState&) { log->calls.push_back("void.begin"); }
  void on_step(cb::TrainingState& s) { log->calls.push_back("void.step" + std::to_string(s.step)); }
  void on_epoch_end(cb::TrainingState&) { log->calls.push_back("void.epoch"); }
  void on_end(cb::TrainingState&) { log->calls.push_back("void.end"); }
};

// Only on_step, returning bool: stops at a given step. Takes the state by const reference.
struct StopAt {
  Log* log;
  std::size_t at;
  bool on_step(const cb::TrainingState& s) {
    log->calls.push_back("stop.step" + std::to_string(s.step));
    return s.step >= at;
  }
};

// No hooks at all: a valid callback that does nothing.
struct NoHooks {
  int value = 0;
};

// A hook whose result converts to bool, and a const hook.
struct Truthy {
  int on_epoch_end(cb::TrainingState&) const { return 1; }
};

// A callback that writes to the state (allowed: the state is shared by all callbacks, in order).
struct SetsMetric {
  void on_step(cb::TrainingState& s) { s.metrics["seen"] = double(s.step); }
};
struct ReadsMetric {
  double got = -1;
  void on_step(cb::TrainingState& s) { got = s.value("seen"); }
};

}  // namespace

TEST_CASE("invoke: hooks are optional, may return void or bool, and any true means stop", "[callbacks][invoke]") {
  Log log;
  AllVoid a{&log};
  StopAt stop{&log, 3};
  NoHooks none;
  cb::TrainingState s{.total_steps = 5};

  REQUIRE_FALSE(cb::invoke_on_begin(s, a, stop, none));
  REQUIRE(log.calls == std::vector<std::string>{"void.begin"});  // StopAt and NoHooks have no on_begin

  bool stopped = false;
  for (std::size_t i = 1; i <= 5 && !stopped; ++i) {
    s.step = i;
    stopped = cb::invoke_on_step(s, a, stop, none);
  }
  REQUIRE(stopped);
  REQUIRE(s.step == 3);
  REQUIRE_FALSE(cb::invoke_on_epoch_end(s, a, stop, none));
  REQUIRE_FALSE(cb::invoke_on_end(s, a, stop, none));
  REQUIRE(log.calls == std::vector<std::string>{"void.begin", "void.step1", "stop.step1", "void.step2", "stop.step2",
                                                "void.step3", "stop.step3", "void.epoch", "void.end"});
}

TEST_CASE("invoke: every callback runs even after one asked to stop", "[callbacks][invoke]") {
  Log log;
  StopAt first{&log, 1};
  AllVoid after{&log};
  cb::TrainingState s{.step = 1};
  REQUIRE(cb::invoke_on_step(s, first, after));
  // The callback after the stopping one still saw the step (a progress bar must draw the last step).
  REQUIRE(log.calls == std::vector<std::string>{"stop.step1", "void.step1"});

  // Two stoppers: both run, the result is still "stop".
  log.calls.clear();
  StopAt second{&log, 1};
  REQUIRE(cb::invoke_on_step(s, first, second));
  REQUIRE(log.calls.size() == 2);
}

TEST_CASE("invoke: no callbacks, no-hook callbacks, const hooks and shared state", "[callbacks][invoke]") {
  cb::TrainingState s;
  REQUIRE_FALSE(cb::invoke_on_begin(s));
  REQUIRE_FALSE(cb::invoke_on_step(s));
  REQUIRE_FALSE(cb::invoke_on_epoch_end(s));
  REQUIRE_FALSE(cb::invoke_on_end(s));

  NoHooks n1, n2;
  REQUIRE_FALSE(cb::invoke_on_step(s, n1, n2));
  REQUIRE(n1.value == 0);

  Truthy t;
  const Truthy ct;  // a const callback whose hook is const is fine
  REQUIRE(cb::invoke_on_epoch_end(s, t));
  REQUIRE(cb::invoke_on_epoch_end(s, ct));
  REQUIRE_FALSE(cb::invoke_on_step(s, t, ct));  // Truthy has no on_step

  SetsMetric set;
  ReadsMetric read;
  s.step = 7;
  cb::invoke_on_step(s, set, read);
  REQUIRE(read.got == 7.0);  // callbacks run in order over the same state
}

TEST_CASE("TrainingState: defaults and value lookup", "[callbacks][state]") {
  cb::TrainingState s;
  REQUIRE(s.step == 0);
  REQUIRE(s.total_steps == 0);
  REQUIRE(std::isnan(s.loss));
  REQUIRE(s.metrics.empty());
  REQUIRE_FALSE(static_cast<bool>(s.save_checkpoint));
  s.loss = 0.5;
  s.metrics["acc"] = 0.9;
  REQUIRE(s.value("") == 0.5);
  REQUIRE(s.value("loss") == 0.5);
  REQUIRE(s.value("acc") == 0.9);
  REQUIRE(std::isnan(s.value("missing")));
  REQUIRE(s.has("loss"));
  REQUIRE(s.has("acc"));
  REQUIRE_FALSE(s.has("missing"));
}

TEST_CASE("invoke: a simulated training loop with the shipped callbacks", "[callbacks][invoke]") {
  // The loss falls for 20 steps, then plateaus: EarlyStop (patience 5) must end the loop at step 25, the
  // checkpoint must have saved at steps 10 and 20 plus the end, and the progress bar must show the last step.
  std::ostringstream bar_out, log_out;
  cb::ProgressBar bar{bar_out};
  cb::LossPrinter printer{.every = 10, .out = &log_out};
  cb::EarlyStop stop{.patience = 5};
  cb::Checkpoint ckpt{.path = "ckpt_{step}.bin", .every = 10};
  std::vector<std::string> saved;

  cb::TrainingState s{.total_steps = 100, .phase = "fit"};
  s.save_checkpoint = [&](const std::filesystem::path& p) { saved.push_back(p.string()); };
  REQUIRE_FALSE(cb::invoke_on_begin(s, bar, printer, stop, ckpt));
  for (std::size_t i = 1; i <= s.total_steps; ++i) {
    s.step = i;
    s.loss = i <= 20 ? 1.0 / double(i) : 0.05;
    s.elapsed_seconds = 0.01 * double(i);
    if (cb::invoke_on_step(s, bar, printer, stop, ckpt)) break;
  }
  cb::invoke_on_end(s, bar, printer, stop, ckpt);

  REQUIRE(s.step == 25);
  REQUIRE(stop.stopped);
  REQUIRE(stop.best_step == 20);
  REQUIRE(saved == std::vector<std::string>{"ckpt_10.bin", "ckpt_20.bin", "ckpt_25.bin"});
  REQUIRE_THAT(bar_out.str(), Catch::Matchers::Contains("fit 25/100"));
  REQUIRE_THAT(log_out.str(), Catch::Matchers::Contains("fit step 20/100  loss 0.05"));
}
