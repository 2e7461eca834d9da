// SPDX-License-Identifier: MIT
// coreset/adaptive.hpp and SelectionView::use_params: a view of given parameters is what a direct forward of those
// parameters gives (and what a trained view gives for its proxy's parameters); train_adaptive selects at epochs
// 0, R, 2R, ... from the network being trained, equals one selection + eval::train when R covers every epoch (byte
// for byte, weighted or not, with a warm start or not), gives the same bytes for the same seed, and names bad
// options; one quick MNIST run.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "distill/coreset.hpp"
#include "distill/eval/train.hpp"
#include "distill/io/datasets.hpp"
#include "distill/nn.hpp"
#include "../support/skip.hpp"
#include "tiny_data.hpp"

namespace cs = distill::coreset;
namespace nn = distill::nn;
namespace ad = distill::ad;
namespace ev = distill::eval;
using B = distill::DefaultBackend<float>;
using distill::Tensor;

namespace {

bool same_bytes(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}
bool same_bytes(const nn::Params<float>& a, const nn::Params<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (!same_bytes(a.tensors[k], b.tensors[k])) return false;
  return true;
}

distill::LabeledData<float> standardized(const distill::LabeledData<float>& d) {
  return distill::io::ChannelStandardization<float>::of(d.images).applied_to(d);
}

// A selector that records the parameters and probabilities it was shown, then picks like Random.
struct Spy {
  std::vector<nn::Params<float>>* params;
  std::vector<Tensor<float>>* probabilities;
  std::string name() const { return "spy"; }
  template <class T>
  cs::Selection select(cs::SelectionView<T>& view, const cs::Budget& budget) const {
    params->push_back(view.proxy(0).params.clone());
    probabilities->push_back(view.probabilities().clone());
    return cs::Random{.seed = 3}.select(view, budget);
  }
};

}  // namespace

TEST_CASE("SelectionView::use_params: the view of given parameters equals a direct forward and the trained view", "[coreset]") {
  const auto data = coreset_test::bytes_data(30, 3, 2);
  const nn::Mlp mlp{.widths = {16, 8, 3}};
  const cs::ViewOptions vo{.features = cs::FeatureSource::embedding, .proxy_epochs = 3, .batch_size = 8, .lr = 0.05};
  cs::SelectionView<float> trained(data, mlp, vo);
  const nn::Params<float> theta = trained.proxy(0).params.clone();
  auto given = cs::SelectionView<float>::of_params(data, mlp, theta, vo, trained.dynamics());
  CHECK(given.proxies_trained() == 0);  // nothing computed until asked for

  // What the trained view's selectors read, byte for byte.
  CHECK(same_bytes(given.probabilities(), trained.probabilities()));
  CHECK(same_bytes(given.embedding(), trained.embedding()));
  CHECK(same_bytes(given.errors(), trained.errors()));
  CHECK(same_bytes(given.inputs(), trained.inputs()));
  CHECK(given.dynamics() == trained.dynamics());
  const cs::Budget two{.images_per_class = 2};
  const auto a = cs::Craig{}.select(trained, two), b = cs::Craig{}.select(given, two);
  CHECK(a.indices == b.indices);
  CHECK(a.weights == b.weights);
  CHECK(cs::Forgetting{}.select(trained, two).indices == cs::Forgetting{}.select(given, two).indices);

  // Probabilities = softmax of a direct forward of the parameters on the standardised data.
  const auto x = standardized(data);
  const Tensor<float> z = mlp.forward<B>(nn::constants<B>(theta), ad::Var<B>(x.images)).value();
  const auto& p = given.probabilities();
  for (std::size_t i = 0; i < 30; ++i) {
    double s = 0;
    for (std::size_t c = 0; c < 3; ++c) s += std::exp(double(z[i * 3 + c]));
    for (std::size_t c = 0; c < 3; ++c) CHECK(p[i * 3 + c] == Approx(std::exp(double(z[i * 3 + c])) / s).margin(1e-6));
  }

  // use_params again: every model quantity follows the new parameters, from the view's own copy of them.
  distill::Rng rng(7);
  nn::Params<float> other = mlp.init<B>(rng);
  auto fresh = cs::SelectionView<float>::of_params(data, mlp, other, vo);
  given.use_params(mlp, other);
  other.tensors[0][0] += 1.0f;  // after use_params: the views computed nothing yet, and must not see this
  CHECK(same_bytes(given.probabilities(), fresh.probabilities()));
  CHECK_FALSE(same_bytes(given.probabilities(), trained.probabilities()));
  CHECK_THROWS_WITH(given.dynamics(), Catch::Contains("no training dynamics"));

  // A pixel-only selector never computes the model quantities.
  auto pixels = cs::SelectionView<float>::of_params(data, mlp, theta);
  (void)cs::Herding{}.select(pixels, two);
  CHECK(pixels.proxies_trained() == 0);

  CHECK_THROWS_WITH(cs::SelectionView<float>::of_params(data, mlp, theta, {.proxy_nets = 2}), Catch::Contains("proxy_nets is 2"));
  CHECK_THROWS_WITH(cs::SelectionView<float>::of_params(data, mlp, nn::Params<float>{}), Catch::Contains("params is empty"));
  CHECK_THROWS_WITH(cs::SelectionView<float>::of_params(data, mlp, theta, {}, {std::vector<std::uint8_t>(29)}),
                    Catch::Contains("dynamics row 0 has 29 entries for 30 examples"));
}

TEST_CASE("train_adaptive: selects at epochs 0, R, 2R, ... from the parameters being trained", "[coreset]") {
  const auto data = coreset_test::bytes_data(48, 3, 4);
  const nn::Mlp mlp{.widths = {16, 8, 3}};
  const cs::Budget budget{.images_per_class = 6};
  const ev::TrainOptions<float> to{.epochs = 7, .batch_size = 5, .lr = 0.05, .schedule = ev::Schedule::constant, .seed = 11};
  std::vector<nn::Params<float>> seen;
  std::vector<Tensor<float>> probs;
  const auto r = cs::train_adaptive(mlp, data, Spy{&seen, &probs}, budget, {.reselect_every = 3}, to);
  REQUIRE(r.rounds.size() == 3);
  REQUIRE(seen.size() == 3);
  CHECK(r.rounds[0].epoch == 0);
  CHECK(r.rounds[1].epoch == 3);
  CHECK(r.rounds[2].epoch == 6);
  CHECK(r.training.epochs == 7);
  CHECK(r.training.steps == 7 * 4);  // 18 picked, batches of 5
  CHECK(r.training.epoch_losses.size() == 7);
  for (const auto& round : r.rounds) {
    CHECK(round.selection.size() == 18);
    CHECK(round.select_seconds >= 0);
    CHECK(round.train_seconds > 0);
  }

  // Round 0 sees the initial parameters; round k the parameters after 3k epochs, which a run of 3k epochs ends
  // with (the schedule is constant, so the shorter run takes the same steps).
  distill::Rng init(11);
  CHECK(same_bytes(seen[0], mlp.init<B>(init)));
  for (std::size_t k = 1; k <= 2; ++k) {
    auto shorter = to;
    shorter.epochs = 3 * k;
    std::vector<nn::Params<float>> s2;
    std::vector<Tensor<float>> p2;
    const auto rk = cs::train_adaptive(mlp, data, Spy{&s2, &p2}, budget, {.reselect_every = 3}, shorter);
    CHECK(same_bytes(seen[k], rk.params));
    CHECK(same_bytes(probs[k], cs::SelectionView<float>::of_params(data, mlp, rk.params).probabilities()));
  }
  CHECK_FALSE(same_bytes(seen[1], seen[2]));
}

TEST_CASE("train_adaptive: with R >= epochs it is one selection and eval::train on it, byte for byte", "[coreset]") {
  const auto data = coreset_test::bytes_data(60, 3, 5);
  const nn::Mlp mlp{.widths = {16, 8, 3}};
  const cs::Budget budget{.images_per_class = 5};
  const ev::TrainOptions<float> to{.epochs = 4, .batch_size = 4, .lr = 0.05, .seed = 2};  // step schedule
  const auto x = standardized(data);
  auto one_shot = [&](const auto& selector, std::size_t warm_epochs) {
    distill::Rng rng(to.seed);
    nn::Params<float> p = mlp.init<B>(rng);
    if (warm_epochs) {
      auto warm = to;
      warm.epochs = warm_epochs;
      warm.schedule = ev::Schedule::constant;
      ev::train<B>(mlp, p, x, warm);
    }
    auto view = cs::SelectionView<float>::of_params(data, mlp, p);
    const cs::Selection s = selector.select(view, budget);
    ev::train<B>(mlp, p, cs::to_distilled_set(s, x, selector.name(), "{}", false), to);
    return std::pair{s, p};
  };
  auto check = [&](const auto& selector, std::size_t warm_epochs, std::size_t every) {
    const auto r = cs::train_adaptive(mlp, data, selector, budget, {.reselect_every = every, .warm_epochs = warm_epochs}, to);
    const auto [s, p] = one_shot(selector, warm_epochs);
    REQUIRE(r.rounds.size() == 1);
    CHECK(r.rounds[0].selection.indices == s.indices);
    CHECK(r.rounds[0].selection.weights == s.weights);
    CHECK(same_bytes(r.params, p));
    CHECK(r.warm.epochs == warm_epochs);
  };
  check(cs::Craig{}, 0, 4);        // weighted: trained on the weights, through the distilled set's batches
  check(cs::Craig{}, 2, 9);        // after a warm start on all the data
  check(cs::El2n{}, 1, 4);
  check(cs::Herding{}, 0, 100);
}

TEST_CASE("train_adaptive: same seed, same bytes, pixel selectors keep one subset, recorded dynamics", "[coreset]") {
  const auto data = coreset_test::bytes_data(60, 3, 6);
  const nn::Mlp mlp{.widths = {16, 8, 3}};
  const cs::Budget budget{.fraction = 0.25};
  const ev::TrainOptions<float> to{.epochs = 6, .batch_size = 4, .lr = 0.05, .seed = 9};
  const cs::AdaptiveOptions ao{.reselect_every = 2, .warm_epochs = 1};
  const auto a = cs::train_adaptive(mlp, data, cs::Craig{}, budget, ao, to);
  const auto b = cs::train_adaptive(mlp, data, cs::Craig{}, budget, ao, to);
  REQUIRE(a.rounds.size() == 3);
  CHECK(same_bytes(a.params, b.params));
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(a.rounds[k].selection.indices == b.rounds[k].selection.indices);
    CHECK(a.rounds[k].selection.weights == b.rounds[k].selection.weights);
  }
  CHECK(a.rounds[0].selection.indices != a.rounds[2].selection.indices);  // the network moved, so did the gradients

  // Herding reads pixels only: every round is the one-shot selection.
  cs::SelectionView<float> pixels(data);
  const auto herd = cs::Herding{}.select(pixels, budget);
  const auto h = cs::train_adaptive(mlp, data, cs::Herding{}, budget, ao, to);
  for (const auto& round : h.rounds) CHECK(round.selection.indices == herd.indices);

  // Forgetting needs the dynamics: recorded at every epoch's end (1 warm + 6), passed to every selection.
  auto with = ao;
  with.record_dynamics = true;
  const auto f = cs::train_adaptive(mlp, data, cs::Forgetting{}, budget, with, to);
  CHECK(f.dynamics.size() == 7);
  CHECK(f.dynamics[6].size() == 60);
  CHECK_THROWS_WITH(cs::train_adaptive(mlp, data, cs::Forgetting{}, budget, ao, to), Catch::Contains("no training dynamics"));
}

TEST_CASE("train_adaptive: bad options are named", "[coreset]") {
  const auto data = coreset_test::bytes_data(30, 3, 1);
  const nn::Mlp mlp{.widths = {16, 8, 3}};
  const cs::Budget budget{.images_per_class = 2};
  CHECK_THROWS_WITH(cs::train_adaptive(mlp, data, cs::Random{}, budget, {.reselect_every = 0}),
                    Catch::Contains("train_adaptive(): reselect_every is 0"));
  CHECK_THROWS_WITH(cs::train_adaptive(mlp, data, cs::Random{}, budget, {.eval_batch_size = 0}),
                    Catch::Contains("eval_batch_size is 0"));
  CHECK_THROWS_WITH(cs::train_adaptive(mlp, data, cs::Random{}, budget, {}, {.epochs = 0}),
                    Catch::Contains("training.epochs is 0"));
  CHECK_THROWS_WITH(cs::train_adaptive(mlp, data, cs::Random{}, budget, {}, {.lr = -1}), Catch::Contains("training.lr is -1"));
  CHECK_THROWS_WITH(cs::train_adaptive(mlp, data, cs::Random{}, budget, {}, {.resume_from = "x.ckpt"}),
                    Catch::Contains("cannot resume"));
  CHECK_THROWS_WITH(cs::train_adaptive(mlp, data, cs::Random{}, cs::Budget{}, {}), Catch::Contains("Random::select(): the budget is 0"));
  CHECK_THROWS_WITH(cs::train_adaptive(mlp, data, cs::Random{}, cs::Budget{.images_per_class = 11}, {}),
                    Catch::Contains("class 0 has only 10 examples"));
}

TEST_CASE("train_adaptive: MNIST, an MLP on 10 % re-selected by CRAIG every 2 epochs", "[coreset][data]") {
  distill::LabeledData<float> train, test;
  try {
    train = distill::io::load_mnist<float>("train").head(5000);
    test = distill::io::load_mnist<float>("test").head(1000);
  } catch (const distill::io_error& e) {
    DISTILL_SKIP("MNIST not found (run scripts/setup.sh): " << e.what());
  }
  const nn::Mlp mlp{.widths = {784, 64, 10}};
  const auto r = cs::train_adaptive(mlp, train, cs::Craig{}, {.fraction = 0.1}, {.reselect_every = 2, .warm_epochs = 1},
                                    {.epochs = 6, .batch_size = 64, .seed = 1});
  CHECK(r.rounds.size() == 3);
  CHECK(r.rounds[0].selection.size() == 500);
  const auto acc = ev::evaluate<B>(mlp, r.params, r.normalization.applied_to(test)).accuracy;
  INFO("test accuracy " << acc);
  CHECK(acc > 0.7);
}
