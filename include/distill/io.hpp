// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_IO_HPP
#define DISTILL_IO_HPP

// The io layer: IDX (MNIST), CIFAR-10 binary batches, NPY/NPZ (NumPy interop), the distilled-set file, PNG grids,
// the standard data sets and data specs (load_data). png.hpp needs stb_image_write and is included only when it
// is available.
#include "distill/core/config.hpp"
#include "distill/io/cifar.hpp"
#include "distill/io/datasets.hpp"
#include "distill/io/distilled_set.hpp"
#include "distill/io/idx.hpp"
#include "distill/io/labeled_data.hpp"
#include "distill/io/npy.hpp"
#include "distill/io/npz.hpp"
#if DISTILL_HAS_STB
#include "distill/io/png.hpp"
#endif

#endif  // DISTILL_IO_HPP
