// SPDX-License-Identifier: MIT
// Loading throughput of the IDX reader on the real data sets: the 60k MNIST training set from raw files and
// the 60k Fashion-MNIST training set from .gz files (inflate included). Reports images/s and MB/s of the
// decoded pixel data (60000 * 784 bytes = 47 MB per load). Needs the data (scripts/setup.sh); a missing
// data set skips its benchmark with a message.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "distill/io/datasets.hpp"
#include "distill/io/idx.hpp"

namespace io = distill::io;

namespace {
void load_split(benchmark::State& state, const char* folder, const char* ext) {
  const auto dir = io::data_root() / folder;
  const auto images = dir / (std::string("train-images-idx3-ubyte") + ext);
  const auto labels = dir / (std::string("train-labels-idx1-ubyte") + ext);
  if (!std::filesystem::exists(images) || !std::filesystem::exists(labels)) {
    state.SkipWithError(("missing " + images.string() + " (run scripts/setup.sh)").c_str());
    return;
  }
  std::size_t n = 0, pixels = 0;
  for (auto _ : state) {
    auto data = io::load_idx<float>(images, labels);
    benchmark::DoNotOptimize(data.images.data());
    benchmark::ClobberMemory();
    n = data.size();
    pixels = data.images.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  // Bytes of decoded IDX data (one byte per pixel and per label): the figure that compares raw and .gz.
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * (pixels + n)));
  state.counters["images"] = static_cast<double>(n);
}

void BM_load_mnist_train_raw(benchmark::State& state) { load_split(state, "mnist", ""); }
void BM_load_fashion_mnist_train_gz(benchmark::State& state) { load_split(state, "fashion-mnist", ".gz"); }
}  // namespace

BENCHMARK(BM_load_mnist_train_raw)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_load_fashion_mnist_train_gz)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
