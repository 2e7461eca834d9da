// SPDX-License-Identifier: MIT
// Compiled only to build the shared precompiled header of the tests (see tests/CMakeLists.txt).
