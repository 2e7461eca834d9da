// SPDX-License-Identifier: MIT
// Knowledge distillation (Hinton, Vinyals, Dean 2015): trains (or loads) a big teacher, then a small student on
// the teacher's temperature-T soft targets, and prints test ERRORS out of the test set (the paper's unit) and %.
//
//   distill_knowledge --student none --teacher-out teacher.npz                         teacher 784-1200-1200-10,
//                                                   60 epochs, 20 % hidden dropout, jitter ±2 px: 67 errors (the
//                                                   paper: 67)
//   distill_knowledge --teacher-in teacher.npz --student hard --epochs 20              student 784-800-800-10, hard
//                                                   labels, no regularisation (the paper: 146)
//   distill_knowledge --teacher-in teacher.npz --temperature 20 --epochs 20            distilled at T = 20 (74)
//   ... --student-jitter 2                          the student sees jittered images too (the teacher's logits
//                                                   then follow them, batch by batch)
//   ... --drop-class 3 --bias-shift 3.5             transfer set without 3s; errors before and after raising the
//                                                   bias of class 3 (206 / 133 on 3s → 109 / 14)
//   ... --transfer-fraction 0.03 [--student hard]   3 % of the training set, soft against hard labels
//   distill_knowledge --teacher-in teacher.npz --student none --relabel kip.npz --relabel-out kip_soft.npz
//       the set's images with the teacher's soft labels; then `evaluate_set kip.npz kip_soft.npz` (MSE on the
//       probabilities), or with --log-labels `evaluate_set ... --stored-objective ce --temperature 1` (cross-entropy
//       against exactly the teacher's probabilities)
//   distill_knowledge --data fashion --teacher-in t.npz --student none --specialists 4
//                                                   the teacher as a generalist with specialists for its clusters
//                                                   of confusable classes (shirt / T-shirt / pullover / coat)
//   --checkpoint run.npz [--resume run.npz]          checkpoint / resume the student's training
//
// Images are raw pixels in [0, 1] (not standardised). Training is SGD with momentum 0.9 and a cosine decay of the
// learning rate per step, batch 128.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <sstream>
#include <string>

#include "cli.hpp"
#include "distill/callbacks.hpp"
#include "distill/io.hpp"
#include "distill/knowledge.hpp"
#include "distill/nn.hpp"

namespace dd = distill;
namespace kd = distill::knowledge;
namespace cli = distill::cli;

namespace {

struct Args {
  // teacher
  std::string teacher_in, teacher_out, teacher_widths = "1200,1200";
  // The defaults train the paper's 67-error teacher (60 epochs, about 8 minutes on one Zen 5 core); 20 % input and 50 %
  // hidden dropout (--input-drop 0.2 --hidden-drop 0.5) left the same net at 111 errors after 60 epochs, 99 after 250.
  std::size_t teacher_epochs = 60, jitter = 2;
  double teacher_lr = 0.1, input_drop = 0, hidden_drop = 0.2;
  std::string teacher_checkpoint, teacher_resume;
  // student
  std::string student = "distill", student_widths = "800,800", out, checkpoint, resume;
  std::size_t epochs = 20, batch = 128, checkpoint_every = 1000, train_limit = 0, student_jitter = 0;
  double lr = 0.05, temperature = 20, alpha = 0, soft_weight = 1, bias_shift = 0, transfer_fraction = 1;
  long drop_class = -1;
  // soft labels for a distilled set
  std::string relabel, relabel_out;
  bool log_labels = false;
  // specialists on the teacher as the generalist
  std::size_t specialists = 0, specialist_epochs = 5, top_classes = 2;
  double specialist_lr = 0.01, specialist_temperature = 2;
  bool progress = true;
};

std::vector<std::size_t> parse_widths(const std::string& text, const char* option) {
  std::vector<std::size_t> w;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    DISTILL_CHECK(!item.empty() && item.find_first_not_of("0123456789") == std::string::npos && std::stoul(item) > 0,
                  option, " ", text, ": expected positive hidden widths separated by commas, like 1200,1200");
    w.push_back(std::stoul(item));
  }
  DISTILL_CHECK(!w.empty(), option, " is empty");
  return w;
}

std::vector<std::size_t> full_widths(const std::vector<std::size_t>& hidden, std::size_t in, std::size_t classes) {
  std::vector<std::size_t> w{in};
  w.insert(w.end(), hidden.begin(), hidden.end());
  w.push_back(classes);
  return w;
}

std::string widths_text(const std::vector<std::size_t>& w) {
  std::string s;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (i) s += '-';
    s += std::to_string(w[i]);
  }
  return s;
}

//! "74 errors (0.74 %)" and, for a class, "; 12 of 1010 3s".
std::string errors_text(const kd::ErrorCount& c, long cls = -1) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%zu errors of %zu (%.2f %%)", c.errors, c.total, 100 * c.rate());
  std::string s = buf;
  if (cls >= 0 && std::size_t(cls) < c.class_errors.size()) {
    std::snprintf(buf, sizeof buf, "; %zu of the %zu %lds", c.class_errors[std::size_t(cls)], c.class_totals[std::size_t(cls)], cls);
    s += buf;
  }
  return s;
}

template <class B, class M, class... Cbs>
kd::FitResult train_teacher(const M& teacher, dd::nn::Params<float>& params, const dd::LabeledData<float>& train,
                            const Args& a, std::uint64_t seed, Cbs&&... cbs) {
  const kd::FitOptions opt{.epochs = a.teacher_epochs, .batch_size = a.batch, .lr = a.teacher_lr, .jitter = a.jitter,
                           .seed = seed, .resume_from = a.teacher_resume};
  return kd::train_teacher<B>(teacher, params, train, opt, cbs...);
}

// "6 (shirt)" for Fashion-MNIST's classes, else the number.
std::string class_label(const std::string& data, std::size_t c) {
  static const char* fashion[] = {"T-shirt/top", "trouser", "pullover", "dress", "coat",
                                  "sandal",      "shirt",   "sneaker",  "bag",   "ankle boot"};
  return std::to_string(c) + (data == "fashion" && c < 10 ? std::string(" (") + fashion[c] + ")" : "");
}

// Clusters of confusable classes from the generalist's predictions, one specialist per cluster, and the test
// errors of the generalist alone against generalist + specialists (eq. 5), overall and on the clusters' classes.
template <class B, class M>
void run_specialists(const M& generalist, const dd::nn::Params<float>& params, const dd::LabeledData<float>& train,
                     const dd::LabeledData<float>& test, const Args& a, const cli::CommonOptions& common) {
  const std::uint64_t seed = common.seed;
  const kd::SpecialistOptions opt{.clusters = a.specialists, .temperature = a.specialist_temperature,
                                  .fit = {.epochs = a.specialist_epochs, .batch_size = a.batch, .lr = a.specialist_lr,
                                          .seed = seed + 3},
                                  .top_classes = a.top_classes, .seed = seed};
  const cli::Stopwatch clock;
  kd::SpecialistEnsemble<M, float, B> ensemble{generalist, params, opt};
  if (a.progress) ensemble.fit(train, dd::callbacks::ProgressBar{});
  else ensemble.fit(train);
  std::printf("%zu specialists (of %zu clusters; T = %g, %zu epochs each, top %zu classes), %.1f s:\n",
              ensemble.specialists().size(), a.specialists, a.specialist_temperature, a.specialist_epochs,
              a.top_classes, clock.seconds());
  std::vector<std::size_t> special;
  for (const auto& s : ensemble.specialists()) {
    std::string names;
    for (auto c : s.classes) {
      if (!names.empty()) names += ", ";
      names += class_label(common.data, c);
    }
    std::printf("  {%s}\n", names.c_str());
    special.insert(special.end(), s.classes.begin(), s.classes.end());
  }
  const auto alone = kd::count_errors<B>(generalist, params, test);
  const auto combined = kd::count_errors(ensemble.predict(test.images), test);
  auto on_special = [&](const kd::ErrorCount& e) {
    std::size_t errors = 0, total = 0;
    for (auto c : special) errors += e.class_errors[c], total += e.class_totals[c];
    char buf[96];
    std::snprintf(buf, sizeof buf, "%zu of %zu (%.2f %%)", errors, total, total ? 100.0 * double(errors) / double(total) : 0.0);
    return std::string(buf);
  };
  std::printf("GENERALIST test: %s; on the specialists' classes %s\n", errors_text(alone).c_str(), on_special(alone).c_str());
  std::printf("GENERALIST + SPECIALISTS test: %s; on the specialists' classes %s\n", errors_text(combined).c_str(),
              on_special(combined).c_str());
}

template <class B>
int run(const Args& a, const cli::CommonOptions& common) {
  const auto data = cli::load_data(common.data);
  auto train = data.train;
  if (a.train_limit) train = train.head(a.train_limit);
  const std::size_t in = train.images.size() / train.size(), classes = train.num_classes;
  DISTILL_CHECK(a.drop_class < long(classes), "--drop-class ", a.drop_class, ": the data have ", classes, " classes");

  // ---- the teacher ----
  const kd::DropoutMlp teacher{.widths = full_widths(parse_widths(a.teacher_widths, "--teacher-widths"), in, classes),
                               .input_drop = a.input_drop, .hidden_drop = a.hidden_drop};
  dd::nn::Params<float> tparams;
  const bool need_teacher = a.student == "distill" || !a.relabel.empty() || !a.teacher_out.empty() ||
                            !a.teacher_in.empty() || a.specialists > 0;
  if (!a.teacher_in.empty()) {
    tparams = dd::nn::load_params<float>(a.teacher_in);
    std::printf("teacher %s loaded from %s\n", widths_text(teacher.widths).c_str(), a.teacher_in.c_str());
  } else if (need_teacher) {
    dd::Rng rng = dd::frame::stream_rng(common.seed, dd::frame::Stream::init, 1);
    tparams = teacher.template init<B>(rng);
    std::printf("teacher %s: dropout %.0f %% input / %.0f %% hidden, jitter ±%zu px, %zu epochs, lr %g, %zu train images\n",
                widths_text(teacher.widths).c_str(), 100 * a.input_drop, 100 * a.hidden_drop, a.jitter, a.teacher_epochs,
                a.teacher_lr, train.size());
    std::fflush(stdout);
    dd::callbacks::ProgressBar bar{};
    dd::callbacks::Checkpoint saver{.path = a.teacher_checkpoint, .every = a.checkpoint_every};
    const cli::Stopwatch clock;
    kd::FitResult r;
    if (a.teacher_checkpoint.empty()) r = a.progress ? train_teacher<B>(teacher, tparams, train, a, common.seed, bar)
                                                     : train_teacher<B>(teacher, tparams, train, a, common.seed);
    else r = a.progress ? train_teacher<B>(teacher, tparams, train, a, common.seed, bar, saver)
                        : train_teacher<B>(teacher, tparams, train, a, common.seed, saver);
    std::printf("teacher trained: %zu epochs, last epoch loss %.4f, %.1f s\n", r.epochs, r.loss, clock.seconds());
    if (!a.teacher_out.empty()) {
      dd::nn::save_params(a.teacher_out, tparams);
      std::printf("teacher saved to %s\n", a.teacher_out.c_str());
    }
  }
  if (!tparams.tensors.empty()) {
    const auto e = kd::count_errors<B>(teacher, tparams, data.test);
    std::printf("TEACHER %s test: %s\n", widths_text(teacher.widths).c_str(), errors_text(e, a.drop_class).c_str());
  }

  // ---- soft labels for a distilled set ----
  if (!a.relabel.empty()) {
    const auto set = dd::io::load_distilled<float>(a.relabel);
    const auto soft = kd::relabel_with_teacher<B>(set, teacher, tparams, {.temperature = a.temperature, .log_probabilities = a.log_labels});
    dd::io::save_distilled(a.relabel_out, soft);
    std::size_t agree = 0;
    const auto hard = set.hard_labels(), now = soft.hard_labels();
    for (std::size_t i = 0; i < hard.size(); ++i) agree += hard[i] == now[i];
    std::printf("relabelled %s (%zu images, method %s) at T = %g -> %s; the teacher's arg-max agrees with %zu of %zu labels\n",
                a.relabel.c_str(), set.size(), set.method.c_str(), a.temperature, a.relabel_out.c_str(), agree, set.size());
  }
  // ---- specialists, with the teacher as the generalist ----
  if (a.specialists > 0) run_specialists<B>(teacher, tparams, train, data.test, a, common);
  if (a.student == "none") return 0;

  // ---- the student ----
  const dd::nn::Mlp student{.widths = full_widths(parse_widths(a.student_widths, "--student-widths"), in, classes)};
  const dd::LabeledData<float> transfer = kd::make_transfer_set(
      train, {.drop_class = a.drop_class, .fraction = a.transfer_fraction, .seed = common.seed});
  const kd::KdObjective objective = a.student == "hard" ? kd::KdObjective{.temperature = 1, .soft_weight = 0, .hard_weight = 1}
                                                        : kd::KdObjective{.temperature = a.temperature,
                                                                          .soft_weight = a.soft_weight, .hard_weight = a.alpha};
  std::printf("student %s (%s): %s, %zu epochs, lr %g, jitter ±%zu px, transfer set %zu images%s\n",
              widths_text(student.widths).c_str(),
              a.student == "hard" ? "hard labels" : "distilled",
              a.student == "hard" ? "cross-entropy"
                                  : ("T = " + std::to_string(a.temperature) + ", soft weight " + std::to_string(a.soft_weight) +
                                     " (x T^2), hard weight " + std::to_string(a.alpha)).c_str(),
              a.epochs, a.lr, a.student_jitter, transfer.size(), a.drop_class >= 0 ? (", no " + std::to_string(a.drop_class) + "s").c_str() : "");
  std::fflush(stdout);
  dd::Rng rng = dd::frame::stream_rng(common.seed, dd::frame::Stream::init, 2);
  auto sparams = student.template init<B>(rng);
  const kd::FitOptions opt{.epochs = a.epochs, .batch_size = a.batch, .lr = a.lr, .jitter = a.student_jitter,
                           .seed = common.seed + 1, .resume_from = a.resume};
  dd::callbacks::ProgressBar bar{};
  dd::callbacks::Checkpoint saver{.path = a.checkpoint, .every = a.checkpoint_every};
  const cli::Stopwatch clock;
  kd::FitResult r;
  if (a.checkpoint.empty()) r = a.progress ? kd::distill<B>(student, sparams, teacher, tparams, transfer, objective, opt, bar)
                                           : kd::distill<B>(student, sparams, teacher, tparams, transfer, objective, opt);
  else r = a.progress ? kd::distill<B>(student, sparams, teacher, tparams, transfer, objective, opt, bar, saver)
                      : kd::distill<B>(student, sparams, teacher, tparams, transfer, objective, opt, saver);
  std::printf("student trained: %zu epochs, last epoch loss %.4f, %.1f s\n", r.epochs, r.loss, clock.seconds());
  const auto e = kd::count_errors<B>(student, sparams, data.test);
  std::printf("STUDENT %s test: %s\n", a.student.c_str(), errors_text(e, a.drop_class).c_str());
  if (a.bias_shift != 0) {
    DISTILL_CHECK(a.drop_class >= 0, "--bias-shift needs --drop-class (the class whose bias to raise)");
    kd::shift_class_bias(sparams, std::size_t(a.drop_class), a.bias_shift);
    const auto e2 = kd::count_errors<B>(student, sparams, data.test);
    std::printf("STUDENT %s, bias of class %ld %+g, test: %s\n", a.student.c_str(), a.drop_class, a.bias_shift,
                errors_text(e2, a.drop_class).c_str());
  }
  if (!a.out.empty()) {
    dd::nn::save_params(a.out, sparams);
    std::printf("student saved to %s\n", a.out.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Knowledge distillation (Hinton et al. 2015): teacher, student by soft targets, test errors"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  Args a;
  app.add_option("--teacher-in", a.teacher_in, "load the teacher's parameters from this .npz (else train one)");
  app.add_option("--teacher-out", a.teacher_out, "save the trained teacher's parameters here (.npz)");
  app.add_option("--teacher-widths", a.teacher_widths, "the teacher's hidden widths");
  app.add_option("--teacher-epochs", a.teacher_epochs, "epochs of teacher training");
  app.add_option("--teacher-lr", a.teacher_lr, "the teacher's initial learning rate");
  app.add_option("--input-drop", a.input_drop, "the teacher's dropout probability on input pixels");
  app.add_option("--hidden-drop", a.hidden_drop, "the teacher's dropout probability on hidden units");
  app.add_option("--jitter", a.jitter, "the teacher's input jitter: random translations of up to this many pixels");
  app.add_option("--teacher-checkpoint", a.teacher_checkpoint, "checkpoint the teacher's training here");
  app.add_option("--teacher-resume", a.teacher_resume, "continue the teacher's training from this checkpoint");
  app.add_option("--student", a.student, "none, hard (hard labels only) or distill")
      ->check(CLI::IsMember({"none", "hard", "distill"}));
  app.add_option("--student-widths", a.student_widths, "the student's hidden widths");
  app.add_option("--epochs", a.epochs, "epochs of student training");
  app.add_option("--student-jitter", a.student_jitter,
                 "the student's input jitter: random translations of up to this many pixels (the teacher's logits are "
                 "then computed per batch, on the images the student sees)");
  app.add_option("--lr", a.lr, "the student's initial learning rate (cosine decay to 0)");
  app.add_option("--batch", a.batch, "minibatch size (teacher and student)");
  app.add_option("--temperature", a.temperature, "T of the soft targets (distillation and --relabel)");
  app.add_option("--alpha", a.alpha, "weight of the hard-label cross-entropy (at T = 1) beside the T^2-scaled soft term");
  app.add_option("--soft-weight", a.soft_weight, "weight of the T^2-scaled soft term");
  app.add_option("--drop-class", a.drop_class, "leave this class out of the transfer set (-1: none)");
  app.add_option("--bias-shift", a.bias_shift, "after training, add this to the output bias of --drop-class");
  app.add_option("--transfer-fraction", a.transfer_fraction, "keep this random fraction of the transfer set")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--train-limit", a.train_limit, "use only the first N training images (0 = all)");
  app.add_option("--out", a.out, "save the student's parameters here (.npz)");
  app.add_option("--checkpoint", a.checkpoint, "checkpoint the student's training here every --checkpoint-every steps");
  app.add_option("--checkpoint-every", a.checkpoint_every, "steps between checkpoints");
  app.add_option("--resume", a.resume, "continue the student's training from a checkpoint (same options)");
  app.add_option("--relabel", a.relabel, "a distilled-set .npz to relabel with the teacher's soft labels at --temperature");
  app.add_option("--relabel-out", a.relabel_out, "where to write the relabelled set (.npz)");
  app.add_flag("--log-labels", a.log_labels,
               "store log-probabilities (for evaluate_set --stored-objective ce --temperature 1) instead of probabilities");
  app.add_option("--specialists", a.specialists,
                 "M > 0: k-means the classes into M clusters by how often the teacher predicts them together, train a "
                 "specialist (its classes + a dustbin) per cluster of two or more, and compare test errors");
  app.add_option("--specialist-epochs", a.specialist_epochs, "--specialists: epochs of each specialist's training");
  app.add_option("--specialist-lr", a.specialist_lr, "--specialists: their initial learning rate");
  app.add_option("--specialist-temperature", a.specialist_temperature,
                 "--specialists: T of the generalist's soft targets they learn");
  app.add_option("--top-classes", a.top_classes,
                 "--specialists: a specialist is active when its classes meet the generalist's top N");
  app.add_flag("!--no-progress", a.progress, "no progress bar");
  CLI11_PARSE(app, argc, argv);

  return cli::run_on_backend("distill_knowledge", common.backend, [&]<class B>() -> int {
    // Every file this run writes or reads is checked before the data are loaded.
    for (const auto& [flag, path] : {std::pair{"--teacher-out", a.teacher_out}, std::pair{"--out", a.out},
                                     std::pair{"--relabel-out", a.relabel_out}})
      if (!path.empty()) cli::check_output_file(flag, path);
    cli::check_checkpoint_paths(a.checkpoint, a.resume);
    cli::check_checkpoint_paths(a.teacher_checkpoint, a.teacher_resume);
    DISTILL_CHECK(a.relabel.empty() == a.relabel_out.empty(), "--relabel and --relabel-out go together");
    DISTILL_CHECK(a.student != "none" || !a.teacher_in.empty() || !a.teacher_out.empty() || !a.relabel.empty() ||
                      a.specialists > 0,
                  "--student none: nothing to do (give --teacher-out to train and save a teacher, --relabel or "
                  "--specialists)");
    return run<B>(a, common);
  });
}
