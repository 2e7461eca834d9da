// SPDX-License-Identifier: MIT
// knowledge/distill.hpp and knowledge/soft_labels.hpp: transfer sets, the bias shift, error counts, a teacher
// (dropout + jitter) and a distilled student learning a small problem, the teacher's logits computed once (and per
// batch when jittering), stop-and-resume landing on the same bytes, soft labels of a distilled set, bad arguments,
// and a [data] MNIST smoke test.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>

#include "distill/callbacks.hpp"
#include "distill/io/datasets.hpp"
#include "distill/knowledge.hpp"
#include "distill/nn.hpp"
#include "support/backends.hpp"
#include "support/skip.hpp"
#include "support/stop_and_save.hpp"
#include "support/temp_file.hpp"

namespace nn = distill::nn;
namespace kd = distill::knowledge;
namespace ad = distill::ad;
using distill::LabeledData;
using distill::Shape;
using distill::Tensor;

namespace {

/**
 * n images 1×4×4 of three classes: class c lights a 2×2 block at one of three places (plus noise), so the classes
 * separate, and a one-pixel jitter keeps them apart.
 */
template <class T>
LabeledData<T> blocks(std::size_t n, std::uint64_t seed) {
  distill::Rng rng(seed);
  LabeledData<T> d{Tensor<T>(Shape{n, 1, 4, 4}), std::vector<std::int64_t>(n), 3};
  const std::size_t corner[3][2] = {{0, 0}, {0, 2}, {2, 1}};
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = std::size_t(rng.uniform_int(3));
    d.labels[i] = std::int64_t(c);
    for (std::size_t p = 0; p < 16; ++p) d.images[i * 16 + p] = T(0.2 * rng.normal());
    for (std::size_t r = 0; r < 2; ++r)
      for (std::size_t col = 0; col < 2; ++col) d.images[i * 16 + (corner[c][0] + r) * 4 + corner[c][1] + col] += T(1);
  }
  return d;
}

template <class T>
bool same_bytes(const nn::Params<T>& a, const nn::Params<T>& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!std::equal(a.tensors[i].begin(), a.tensors[i].end(), b.tensors[i].begin())) return false;
  return true;
}

//! An nn::Mlp that counts the rows its forward() sees (to check that the teacher's logits are cached).
struct CountingMlp {
  nn::Mlp mlp;
  std::shared_ptr<std::size_t> rows = std::make_shared<std::size_t>(0);
  template <distill::Backend B>
  nn::Params<typename B::Scalar> init(distill::Rng& rng) const {
    return mlp.template init<B>(rng);
  }
  template <distill::Backend B>
  ad::Var<B> forward(const std::vector<ad::Var<B>>& p, const ad::Var<B>& x) const {
    *rows += x.shape(0);
    return mlp.template forward<B>(p, x);
  }
};

}  // namespace

TEST_CASE("make_transfer_set: leaves a class out, keeps a seeded fraction, checks its options", "[knowledge]") {
  const auto d = blocks<float>(300, 1);
  std::size_t threes = 0;
  for (auto y : d.labels) threes += y == 1;
  const auto no1 = kd::make_transfer_set(d, {.drop_class = 1});
  CHECK(no1.size() == d.size() - threes);
  CHECK(no1.num_classes == 3);
  for (auto y : no1.labels) CHECK(y != 1);
  const auto a = kd::make_transfer_set(d, {.fraction = 0.1, .seed = 4}), b = kd::make_transfer_set(d, {.fraction = 0.1, .seed = 4});
  const auto c = kd::make_transfer_set(d, {.fraction = 0.1, .seed = 5});
  CHECK(a.size() == 30);
  CHECK(std::equal(a.images.begin(), a.images.end(), b.images.begin()));
  CHECK(!std::equal(a.images.begin(), a.images.end(), c.images.begin()));
  CHECK(kd::make_transfer_set(d, {.drop_class = 0, .fraction = 0.5}).size() ==
        std::size_t(std::llround(0.5 * double(kd::make_transfer_set(d, {.drop_class = 0}).size()))));
  CHECK_THROWS_WITH(kd::make_transfer_set(d, {.fraction = 0}), Catch::Contains("fraction is 0"));
  CHECK_THROWS_WITH(kd::make_transfer_set(d, {.drop_class = 3}), Catch::Contains("drop_class is 3"));
}

TEMPLATE_TEST_CASE("count_errors and shift_class_bias: per-class errors, and a raised bias moves predictions",
                   "[knowledge]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const nn::Mlp linear{.widths = {16, 3}};
  nn::Params<T> p;
  p.add("fc0.weight", Tensor<T>(Shape{3, 16}, T(0)));
  p.add("fc0.bias", Tensor<T>(Shape{3}, T(0)));
  const auto d = blocks<T>(90, 2);
  std::size_t per[3] = {0, 0, 0};
  for (auto y : d.labels) ++per[y];
  // Zero logits: ties go to class 0, so every example of classes 1 and 2 is an error.
  auto e = kd::count_errors<B>(linear, p, d);
  CHECK(e.total == 90);
  CHECK(e.errors == per[1] + per[2]);
  CHECK(e.class_errors == std::vector<std::size_t>{0, per[1], per[2]});
  CHECK(e.class_totals == std::vector<std::size_t>{per[0], per[1], per[2]});
  kd::shift_class_bias(p, 2, 0.5);
  CHECK(p.tensors.back()[2] == T(0.5));
  e = kd::count_errors<B>(linear, p, d);
  CHECK(e.class_errors == std::vector<std::size_t>{per[0], per[1], 0});
  CHECK_THROWS_WITH(kd::shift_class_bias(p, 3, 1.0), Catch::Contains("class 3 is outside the 3 outputs of 'fc0.bias'"));
}

TEMPLATE_TEST_CASE("train_teacher with dropout and jitter, then distill: both learn, the student follows the teacher",
                   "[knowledge][train]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const auto train = blocks<T>(384, 3), test = blocks<T>(300, 4);
  const kd::DropoutMlp teacher{.widths = {16, 32, 32, 3}, .input_drop = 0.1, .hidden_drop = 0.3};
  distill::Rng rng(5);
  auto tp = teacher.template init<B>(rng);
  const auto before = kd::count_errors<B>(teacher, tp, test);
  // 8 epochs × 12 batches of 32.
  const auto tr = kd::train_teacher<B>(teacher, tp, train, {.epochs = 8, .batch_size = 32, .lr = 0.1, .jitter = 1, .seed = 6});
  CHECK(tr.steps == 96);
  CHECK(tr.epoch_losses.size() == 8);
  CHECK(tr.epoch_losses.front() > tr.epoch_losses.back());
  const auto te = kd::count_errors<B>(teacher, tp, test);
  INFO("teacher errors before " << before.errors << ", after " << te.errors << " of 300");
  CHECK(te.errors < 15);

  const nn::Mlp student{.widths = {16, 8, 3}};
  distill::Rng srng(7);
  auto sp = student.template init<B>(srng);
  const auto sr = kd::distill<B>(student, sp, teacher, tp, train, kd::KdObjective{.temperature = 4, .hard_weight = 0.1},
                                 {.epochs = 8, .batch_size = 32, .lr = 0.1, .seed = 8});
  CHECK(sr.epoch_losses.front() > sr.epoch_losses.back());
  const auto se = kd::count_errors<B>(student, sp, test);
  INFO("distilled student errors " << se.errors << " of 300");
  CHECK(se.errors < 15);
  // The student's predictions agree with the teacher's on most test images.
  const Tensor<T> zt = kd::logits_of<B>(teacher, tp, test.images), zs = kd::logits_of<B>(student, sp, test.images);
  std::size_t agree = 0;
  for (std::size_t i = 0; i < test.size(); ++i) {
    const T *a = zt.data() + 3 * i, *b = zs.data() + 3 * i;
    agree += std::max_element(a, a + 3) - a == std::max_element(b, b + 3) - b;
  }
  CHECK(agree > 285);
}

TEST_CASE("distill: the teacher's logits are computed once, or per batch when the student's inputs are jittered",
          "[knowledge][train]") {
  using B = distill::EigenBackend<float>;
  const auto train = blocks<float>(100, 9);
  const CountingMlp teacher{nn::Mlp{.widths = {16, 8, 3}}};
  distill::Rng rng(1);
  const auto tp = teacher.init<B>(rng);
  const nn::Mlp student{.widths = {16, 4, 3}};
  auto sp = student.init<B>(rng);
  kd::distill<B>(student, sp, teacher, tp, train, kd::KdObjective{.temperature = 2}, {.epochs = 3, .batch_size = 25});
  CHECK(*teacher.rows == 100);  // one pass over the transfer set for 12 steps
  *teacher.rows = 0;
  kd::distill<B>(student, sp, teacher, tp, train, kd::KdObjective{.temperature = 2},
                 {.epochs = 3, .batch_size = 25, .jitter = 1});
  CHECK(*teacher.rows == 300);  // every batch of every epoch
  *teacher.rows = 0;
  kd::distill<B>(student, sp, teacher, tp, train, kd::KdObjective{.soft_weight = 0, .hard_weight = 1}, {.epochs = 1});
  CHECK(*teacher.rows == 0);  // hard labels only: the teacher is never asked
}

TEST_CASE("distill: a run stopped mid-epoch and resumed from its checkpoint lands on the same bytes", "[knowledge][train]") {
  using B = distill::EigenBackend<float>;
  const auto train = blocks<float>(96, 10);
  const kd::DropoutMlp teacher{.widths = {16, 12, 3}};
  distill::Rng rng(2);
  auto tp = teacher.init<B>(rng);
  kd::train_teacher<B>(teacher, tp, train, {.epochs = 2, .batch_size = 16, .jitter = 1, .seed = 1});
  const nn::Mlp student{.widths = {16, 6, 3}};
  distill::Rng r1(3), r2(3), r3(4);
  auto full = student.init<B>(r1);
  const kd::KdObjective o{.temperature = 3, .hard_weight = 0.5};
  const kd::FitOptions opt{.epochs = 3, .batch_size = 16, .lr = 0.05, .jitter = 1, .seed = 11};
  const auto whole = kd::distill<B>(student, full, teacher, tp, train, o, opt);
  CHECK(whole.steps == 18);

  TempFile mid("kd_resume");
  auto part = student.init<B>(r2);
  StopAndSave stop_at_8{mid.path, 8};  // step 8 of 18: inside the second epoch
  const auto first = kd::distill<B>(student, part, teacher, tp, train, o, opt, stop_at_8);
  CHECK(first.stopped_early);
  auto resumed = student.init<B>(r3);  // other values: everything must come from the checkpoint
  auto rest = opt;
  rest.resume_from = mid.path;
  const auto second = kd::distill<B>(student, resumed, teacher, tp, train, o, rest);
  CHECK(second.steps == 18);
  CHECK(same_bytes(full, resumed));
  CHECK(second.epoch_losses.back() == whole.epoch_losses.back());
  // The teacher's run is its own method: its checkpoint does not resume a student.
  TempFile tmid("kd_teacher_resume");
  auto tq = teacher.init<B>(r1);
  StopAndSave stop_teacher{tmid.path, 3};
  kd::train_teacher<B>(teacher, tq, train, {.epochs = 2, .batch_size = 16}, stop_teacher);
  auto wrong = opt;
  wrong.resume_from = tmid.path;
  CHECK_THROWS_AS(kd::distill<B>(student, resumed, teacher, tp, train, o, wrong), distill::io_error);
}

TEMPLATE_TEST_CASE("relabel_with_teacher: the set's images with softmax(teacher(x) / T) labels, in the teacher's space",
                   "[knowledge]", DISTILL_TEST_BACKENDS) {
  using B = TestType;
  using T = typename B::Scalar;
  const nn::Mlp teacher{.widths = {16, 8, 3}};
  distill::Rng rng(12);
  const auto tp = teacher.template init<B>(rng);
  const auto raw = blocks<T>(6, 13);
  // A set stored standardised: x_set = (x - 0.25) / 2.
  distill::io::DistilledSet<T> set;
  set.images = raw.images.clone();
  set.labels = Tensor<T>(Shape{6}, T(0));
  set.mean = Tensor<T>(Shape{1}, T(0.25));
  set.stddev = Tensor<T>(Shape{1}, T(2));
  set.method = "kip";
  for (std::size_t i = 0; i < 6; ++i) set.labels[i] = T(raw.labels[i]);
  for (auto& v : set.images) v = (v - T(0.25)) / T(2);
  const auto soft = kd::relabel_with_teacher<B>(set, teacher, tp, {.temperature = 4});
  REQUIRE(soft.labels.shape() == Shape{6, 3});
  CHECK(soft.method == "kip+soft_labels");
  CHECK(std::equal(soft.images.begin(), soft.images.end(), set.images.begin()));
  const Tensor<T> expected = kd::soft_targets<B>(kd::logits_of<B>(teacher, tp, raw.images), 4.0);
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(std::abs(double(soft.labels[i] - expected[i])) < 1e-5);
  // Log-probabilities: evaluate_set's cross-entropy protocol at temperature 1 recovers the same targets.
  const auto logs = kd::relabel_with_teacher<B>(set, teacher, tp, {.temperature = 4, .log_probabilities = true});
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(std::abs(std::exp(double(logs.labels[i])) - double(expected[i])) < 1e-5);
  // A teacher trained on standardised inputs gets them in its own space: (x - 0.5) / 0.25.
  const auto own = kd::relabel_with_teacher<B>(set, teacher, tp, {.temperature = 4, .teacher_mean = Tensor<T>(Shape{1}, T(0.5)),
                                                                  .teacher_stddev = Tensor<T>(Shape{1}, T(0.25))});
  Tensor<T> standardised = raw.images.clone();
  for (auto& v : standardised) v = (v - T(0.5)) / T(0.25);
  const Tensor<T> expected_own = kd::soft_targets<B>(kd::logits_of<B>(teacher, tp, standardised), 4.0);
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(std::abs(double(own.labels[i] - expected_own[i])) < 1e-5);
  CHECK_THROWS_WITH(kd::relabel_with_teacher<B>(set, nn::Mlp{.widths = {16, 4}}, nn::Mlp{.widths = {16, 4}}.template init<B>(rng)),
                    Catch::Contains("the teacher returns 4 logits per image but the set has 3 classes"));
}

TEST_CASE("fit rejects bad options and data with a message naming them", "[knowledge]") {
  using B = distill::EigenBackend<float>;
  const auto train = blocks<float>(20, 14);
  const nn::Mlp m{.widths = {16, 3}};
  distill::Rng rng(0);
  auto p = m.init<B>(rng);
  CHECK_THROWS_WITH(kd::train_teacher<B>(m, p, train, {.epochs = 0}), Catch::Contains("epochs is 0"));
  CHECK_THROWS_WITH(kd::train_teacher<B>(m, p, train, {.lr = -1}), Catch::Contains("lr is -1"));
  const LabeledData<float> flat{train.images.reshape(Shape{20, 16}), train.labels, 3};
  CHECK_THROWS_WITH(kd::train_teacher<B>(m, p, flat, {.jitter = 1}), Catch::Contains("jitter needs NCHW images"));
  CHECK_THROWS_WITH(kd::fit<B>(m, p, train, nullptr, kd::KdObjective{}, kd::FitOptions{}, "kd_student"),
                    Catch::Contains("no teacher was given"));
  CHECK_THROWS_WITH(kd::distill<B>(m, p, m, p, train, kd::KdObjective{.temperature = -2}, {}),
                    Catch::Contains("temperature is -2"));
}

TEST_CASE("distill on MNIST: a student distilled at T = 20 from a briefly trained teacher passes 85 %",
          "[knowledge][train][data]") {
  using B = distill::DefaultBackend<float>;
  LabeledData<float> train_set, test_set;
  try {
    train_set = distill::io::load_mnist<float>("train").head(6400);
    test_set = distill::io::load_mnist<float>("test").head(1000);
  } catch (const distill::io_error& e) {
    DISTILL_SKIP("MNIST not found (run scripts/setup.sh): " << e.what());
  }
  const kd::DropoutMlp teacher{.widths = {784, 128, 10}};
  distill::Rng rng(0);
  auto tp = teacher.init<B>(rng);
  kd::train_teacher<B>(teacher, tp, train_set, {.epochs = 3, .lr = 0.1, .jitter = 1});
  const nn::Mlp student{.widths = {784, 64, 10}};
  auto sp = student.init<B>(rng);
  kd::distill<B>(student, sp, teacher, tp, train_set, kd::KdObjective{.temperature = 20}, {.epochs = 3, .lr = 0.1});
  const auto e = kd::count_errors<B>(student, sp, test_set);
  INFO("teacher errors " << kd::count_errors<B>(teacher, tp, test_set).errors << ", student errors " << e.errors
                         << " of 1000");
  CHECK(e.errors < 150);
}
