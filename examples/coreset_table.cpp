// SPDX-License-Identifier: MIT
// The coreset results table: selects with each --methods at each --ipc, trains --eval-nets fresh ConvNet-3s on every
// selection (evaluate_set's DC protocol, as select_coreset --eval-nets: hard labels, the weighted loss where the
// selection has weights) and prints a markdown table of method x images per class, mean ± std test accuracy, with
// the published cell beside each of ours for MNIST and Fashion-MNIST (Zhao, Mopuri, Bilen 2021, Dataset
// Condensation with Gradient Matching, ICLR, Table 1: random, herding, k-center, forgetting at 1 / 10 / 50), the
// best of each column in bold, and the seconds each selection took.
//
//   coreset_table --data fashion --ipc 1 --eval-nets 2
//   coreset_table --methods random,herding,k_center_greedy,forgetting,craig --ipc 1,10,50 --eval-nets 5 --out mnist.md
//   coreset_table --methods el2n,craig --ipc 10 --proxy mlp --proxy-epochs 5 --save-dir selections
//   coreset_table --methods random --ipc 1 --draws 5 --eval-nets 2
//
// --draws D selects D times per cell with the selector seeds seed, seed + 1, ..., and pools the nets of all draws into
// one mean ± std: at 1 image per class one draw of 10 images decides a random selection's accuracy more than the nets
// trained on it do, and the published random cells average over several draws. The proxies are trained once; a
// deterministic method (herding, say) selects the same subset every draw, and only its nets' seeds differ.
//
// Every proxy-based method reads one shared view: its proxies (--proxy, --proxy-epochs, --proxy-nets) are trained
// once, before the first selection that needs them, and their seconds are printed apart from the selections'.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "coreset_methods.hpp"
#include "distill/coreset.hpp"
#include "distill/eval/protocol.hpp"
#include "distill/io.hpp"

namespace dd = distill;
namespace cli = distill::cli;
namespace cs = distill::coreset;
namespace methods = distill::cli::coreset;

namespace {

struct Args : methods::ProxyArgs {
  std::vector<std::string> methods{"random", "herding", "k_center_greedy", "forgetting"};
  std::vector<std::size_t> ipcs{1, 10, 50};
  std::string out, save_dir;
  std::size_t eval_nets = 5, eval_epochs = 300;
  std::size_t draws = 1;
  bool eval_dc_aug = false;
  bool quiet = false;
};

/**
 * The published cell of a method at ipc images per class on a data set (Zhao, Mopuri, Bilen 2021, Table 1: ConvNet-3
 * trained on the selection, the protocol evaluate_set runs), in %; none for other methods, sizes or data.
 */
std::optional<double> published(const std::string& data, const std::string& method, std::size_t ipc) {
  static const std::map<std::string, std::map<std::string, std::vector<double>>> table{
      {"mnist", {{"random", {64.9, 95.1, 97.9}}, {"herding", {89.2, 93.7, 94.8}}, {"k_center_greedy", {89.3, 84.4, 97.4}},
                 {"forgetting", {35.5, 68.1, 88.2}}}},
      {"fashion", {{"random", {51.4, 73.8, 82.5}}, {"herding", {67.0, 71.1, 71.9}}, {"k_center_greedy", {66.9, 54.7, 68.3}},
                   {"forgetting", {42.0, 53.9, 55.0}}}}};
  const std::size_t column = ipc == 1 ? 0 : ipc == 10 ? 1 : ipc == 50 ? 2 : 3;
  const auto d = table.find(data);
  if (d == table.end() || column > 2) return std::nullopt;
  const auto m = d->second.find(method);
  if (m == d->second.end()) return std::nullopt;
  return m->second[column];
}

//! One cell of the table: our result (the nets of every draw), the mean seconds of a selection.
struct Cell {
  dd::eval::ProtocolResult result;
  double select_seconds = 0;
  bool weighted = false;
};

//! "97.12 ± 0.23" (in %).
std::string percent(const dd::eval::ProtocolResult& r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f ± %.2f", 100 * r.mean, 100 * r.stddev);
  return buf;
}
//! `v` with `digits` decimals.
std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

//! The markdown table (see the file comment): bold marks the best of each accuracy column.
std::string markdown(const Args& a, const std::string& data, const std::map<std::pair<std::string, std::size_t>, Cell>& cells) {
  bool any_published = false;
  for (const auto& m : a.methods)
    for (auto k : a.ipcs) any_published = any_published || published(data, m, k).has_value();
  std::string head = "| method |", rule = "|---|";
  for (auto k : a.ipcs) {
    head += " " + std::to_string(k) + " / class |";
    rule += "---|";
    if (any_published) head += " published |", rule += "---|";
  }
  head += " selection s (";
  for (std::size_t i = 0; i < a.ipcs.size(); ++i) head += (i ? " / " : "") + std::to_string(a.ipcs[i]);
  head += ") |\n";
  rule += "---|\n";
  std::string out = head + rule;
  for (const auto& m : a.methods) {
    std::string row = "| " + m + " |", secs;
    for (std::size_t i = 0; i < a.ipcs.size(); ++i) {
      const auto k = a.ipcs[i];
      const Cell& c = cells.at({m, k});
      double best = 0, best_paper = 0;
      for (const auto& o : a.methods) {
        best = std::max(best, cells.at({o, k}).result.mean);
        best_paper = std::max(best_paper, published(data, o, k).value_or(0));
      }
      const std::string ours = percent(c.result) + (c.weighted ? " (w)" : "");
      row += " " + (c.result.mean == best ? "**" + ours + "**" : ours) + " |";
      if (any_published) {
        const auto p = published(data, m, k);
        const std::string cell = p ? fixed(*p, 1) : "";
        row += " " + (p && *p == best_paper ? "**" + cell + "**" : cell) + " |";
      }
      secs += (i ? " / " : "") + fixed(c.select_seconds, 2);
    }
    out += row + " " + secs + " |\n";
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coreset_table: the coreset results table (methods x images per class, ConvNet-3 test accuracy, the "
               "published cells beside)"};
  cli::CommonOptions common;
  cli::setup_app(app, common);
  Args a;
  app.add_option("--methods", a.methods, "comma-separated methods: " + methods::method_list())->delimiter(',');
  app.add_option("--ipc", a.ipcs, "comma-separated images per class")->delimiter(',')->check(CLI::PositiveNumber);
  a.add_to(app);
  app.add_option("--eval-nets", a.eval_nets, "fresh ConvNet-3s trained on every selection")->check(CLI::PositiveNumber);
  app.add_option("--eval-epochs", a.eval_epochs, "epochs per net (the DC protocol's other settings)")->check(CLI::PositiveNumber);
  app.add_option("--draws", a.draws, "selections per cell, with the selector seeds seed, seed + 1, ...; each trains "
                 "--eval-nets nets and a cell pools them all")->check(CLI::PositiveNumber);
  cli::add_eval_dc_aug_flag(app, a.eval_dc_aug);
  app.add_option("--out", a.out, "also write the markdown table to this file");
  app.add_option("--save-dir", a.save_dir, "also save every selection as <dir>/<data>_<method>_ipc<N>.npz");
  app.add_flag("--quiet", a.quiet, "no progress bars while proxies train");
  CLI11_PARSE(app, argc, argv);

  return cli::run_on_backend("coreset_table", common.backend, [&]<class B>() -> int {
    for (const auto& m : a.methods) methods::check_method(m, "--methods entry");
    DISTILL_CHECK(!a.methods.empty() && !a.ipcs.empty(), "--methods and --ipc need at least one entry each");
    const std::string base = common.data == "mnist" || common.data == "fashion" ? common.data : "data";
    // Draw 0 keeps the plain name, so that --draws 1 writes what it always wrote.
    auto npz = [&](const std::string& m, std::size_t k, std::size_t draw) {
      return a.save_dir + "/" + base + "_" + m + "_ipc" + std::to_string(k) + (draw ? "_draw" + std::to_string(draw) : "");
    };
    if (!a.out.empty()) cli::check_output_file("--out", a.out);
    if (!a.save_dir.empty())
      for (const auto& m : a.methods)
        for (auto k : a.ipcs)
          for (std::size_t d = 0; d < a.draws; ++d) cli::check_output_prefix(npz(m, k, d), {".npz"}, "--save-dir");

    const auto data = cli::load_data(common.data);
    const auto& train = data.train;
    const dd::Shape shape = cli::image_shape(train.images);
    const cs::ViewOptions vo = a.view_options(common.seed, !a.quiet);
    const std::string dc_strategy = cli::eval_dc_strategy(a.eval_dc_aug, common.data);
    const auto protocol = cli::NetEvaluation{.nets = a.eval_nets, .epochs = a.eval_epochs, .seed = common.seed,
                                             .dc_strategy = dc_strategy}.protocol<float>();
    std::printf("protocol: %zu fresh ConvNet-3s per cell, %zu epochs%s (evaluate_set; weighted loss for weighted "
                "selections)\n", a.eval_nets, a.eval_epochs, dc_strategy == "none" ? "" : ", DC augmentation");
    bool any_proxy = false;
    for (const auto& m : a.methods) any_proxy = any_proxy || methods::needs_proxy(m, a.features);

    cs::SelectionView<float> view =
        any_proxy ? cli::with_model(a.proxy, a.model_options(), shape, train.num_classes,
                                    [&](const auto& proxy_net) { return cs::SelectionView<float>(train, proxy_net, vo); })
                  : cs::SelectionView<float>(train, vo);
    if (any_proxy) {
      // Trained here so that no selection's seconds include them.
      const cli::Stopwatch clock;
      a.print(shape, train.num_classes, train.size());
      for (std::size_t r = 0; r < a.proxy_nets; ++r) (void)view.proxy(r);
      std::printf("proxy trained in %.1f s\n", clock.seconds());
    }
    std::map<std::pair<std::string, std::size_t>, Cell> cells;
    const std::size_t total = a.methods.size() * a.ipcs.size();
    std::size_t done = 0;
    return cli::with_model("convnet", cli::ModelOptions{}, shape, train.num_classes, [&](const auto& convnet) {
      for (auto k : a.ipcs) {
        for (const auto& m : a.methods) {
          ++done;
          Cell c;
          for (std::size_t d = 0; d < a.draws; ++d) {
            const methods::AnySelector selector = a.selector(m, common.seed + d);
            std::printf("[%zu/%zu] %s, %zu / class%s: ", done, total, m.c_str(), k,
                        a.draws > 1 ? (", draw " + std::to_string(d + 1) + "/" + std::to_string(a.draws)).c_str() : "");
            std::fflush(stdout);
            const cli::Stopwatch clock;
            const cs::Selection s = selector.select(view, cs::Budget{.images_per_class = k});
            const double seconds = clock.seconds();
            c.select_seconds += seconds / static_cast<double>(a.draws);
            c.weighted = s.weights.has_value();
            std::printf("selected %zu in %.2f s%s, training %zu nets ... ", s.size(), seconds,
                        c.weighted ? " (weighted)" : "", a.eval_nets);
            std::fflush(stdout);
            auto options = cli::options_json(common);
            options.add("method", m).add("features", a.features).add("ipc", k).add("selector_seed", common.seed + d);
            if (methods::needs_proxy(m, a.features)) a.add_proxy_json(options);
            a.add_method_json(options, m);
            const auto set = cs::to_distilled_set(s, train, selector.name(), options.str());
            if (!a.save_dir.empty()) dd::io::save_distilled(npz(m, k, d) + ".npz", set);
            // Each draw's nets get their own seeds, so that a deterministic selection's draws are more nets, not
            // the same nets again.
            auto draw_protocol = protocol;
            draw_protocol.seed = protocol.seed + d * a.eval_nets;
            const cli::Stopwatch eval_clock;
            const auto draw_result = dd::eval::evaluate_set<B>(convnet, set, data.test, {.protocol = draw_protocol}).hard;
            c.result.add_runs(draw_result);
            std::printf("%s (%.1f s)\n", cli::format_accuracy(draw_result).c_str(), eval_clock.seconds());
            std::fflush(stdout);
          }
          if (a.draws > 1) std::printf("  %s, %zu / class, %zu draws: %s\n", m.c_str(), k, a.draws,
                                       cli::format_accuracy(c.result).c_str());
          cells[{m, k}] = c;
        }
      }
      const std::string table = markdown(a, data.name, cells);
      std::printf("\n%s: ConvNet-3 test accuracy (%%, %zu draw(s) x %zu nets x %zu epochs; (w): weighted loss); "
                  "published: Zhao, Mopuri, Bilen 2021, Table 1\n\n%s",
                  data.name.c_str(), a.draws, a.eval_nets, a.eval_epochs, table.c_str());
      if (!a.out.empty()) {
        cli::write_text_file(a.out, table);
        std::printf("wrote %s\n", a.out.c_str());
      }
      return 0;
    });
  });
}
