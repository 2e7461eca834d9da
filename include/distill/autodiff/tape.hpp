// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_AUTODIFF_TAPE_HPP
#define DISTILL_AUTODIFF_TAPE_HPP

/**
 * @file
 * The reverse-mode tape and the differentiable value that lives on it.
 *
 * WHAT THIS REPRESENTS
 *   Tape<B> is an explicit object (never a global) that records one Node per *tensor* operation, in the order
 *   the operations run, which is a topological order. Var<B> is a tensor value plus, when it was computed from
 *   variables of a tape, the index of the node that produced it. A Var without a tape is a constant: operations
 *   on constants compute values and record nothing.
 *
 *   A node's backward is a closure that maps the gradient of its output to gradients of its inputs, written with
 *   the same differentiable operations as the forward pass. grad() runs those closures with recording switched
 *   off (first order: plain arithmetic) or on (create_graph: the backward pass itself lands on the tape, so the
 *   gradient is a Var that can be differentiated again — Hessian-vector products, hypergradients through
 *   unrolled gradient steps).
 *
 * ENSURES
 *   - Nodes live in a deque, so recording during a backward pass never moves the node being processed.
 *   - mark()/rewind() drop everything recorded after a point (bounded-memory unrolling recomputes a step's graph
 *     and throws it away again).
 *   - Each node keeps the name of its op, so a Profile (below) can say where a pass spends its time.
 */

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"

namespace distill::ad {

template <Backend B>
class Tape;

/**
 * Where a pass spends its time, per op kind, read off the tape: calls, seconds and bytes of each forward op
 * (`conv2d`, `matmul`, …) and of each op's backward (`conv2d backward`), accumulated over any number of passes.
 *
 * How: every tape event — an op recorded, a node's backward returning, a gradient accumulated — charges the wall
 * time since the previous event to its own kind. So an op's time is the time from the previous recorded op to its
 * record, which covers its forward kernel and whatever untaped arithmetic ran just before it (constants, masks);
 * under create_graph the ops a backward records are charged to their own kinds and the rest to "<op> backward".
 * Bytes are those at the op's boundary — inputs and output forward; the incoming gradient, the inputs and the
 * gradients produced backward — a lower bound of its memory traffic, against which the time says how far an
 * op is from the streaming bandwidth.
 *
 * Off, it costs one test of a thread-local pointer per recorded op: a Profile counts only while a
 * ProfileScope installs it on the calling thread.
 */
class Profile {
 public:
  struct Entry {
    std::string op;
    std::size_t calls = 0;
    double seconds = 0;
    double bytes = 0;
  };

  //! Charges the time since the previous event to `op` (one call, `bytes` at its boundary).
  void lap(const std::string& op, std::size_t bytes) {
    const auto now = Clock::now();
    Entry& e = entries_[op];
    e.op = op;
    e.calls += 1;
    e.seconds += std::chrono::duration<double>(now - last_).count();
    e.bytes += double(bytes);
    last_ = now;
  }
  //! Starts a new interval without charging anyone (the time before it belongs to no op).
  void restart() { last_ = Clock::now(); }
  void clear() { entries_.clear(); }

  //! Every op kind seen, the most time first.
  std::vector<Entry> entries() const {
    std::vector<Entry> out;
    for (const auto& [op, e] : entries_) out.push_back(e);
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
    return out;
  }
  //! The entry of one op kind (zeros if it never ran).
  Entry entry(const std::string& op) const {
    const auto it = entries_.find(op);
    return it == entries_.end() ? Entry{op} : it->second;
  }
  double total_seconds() const {
    double s = 0;
    for (const auto& [op, e] : entries_) s += e.seconds;
    return s;
  }

  /**
   * A table per pass: op kind, calls, ms, share of the profiled time, MB and GB/s at the op's boundary.
   * @param passes how many passes the profile accumulated (the table divides by it)
   */
  void print(std::FILE* out, double passes = 1, const char* title = "tape profile") const {
    const double total = total_seconds();
    std::fprintf(out, "%s: %.3f ms per pass over %g pass(es)\n", title, 1e3 * total / passes, passes);
    std::fprintf(out, "  %-34s %9s %10s %7s %10s %8s\n", "op", "calls", "ms", "share", "MB", "GB/s");
    for (const auto& e : entries())
      std::fprintf(out, "  %-34s %9.1f %10.3f %6.1f%% %10.2f %8.2f\n", e.op.c_str(), double(e.calls) / passes,
                   1e3 * e.seconds / passes, total > 0 ? 100 * e.seconds / total : 0.0, e.bytes / passes / 1e6,
                   e.seconds > 0 ? e.bytes / e.seconds / 1e9 : 0.0);
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::map<std::string, Entry> entries_;
  Clock::time_point last_ = Clock::now();
};

namespace detail {
//! The Profile that tape events on this thread charge (nullptr: profiling off).
inline thread_local Profile* active_profile = nullptr;
}  // namespace detail

/// RAII: tape events on this thread are charged to `profile` while the scope lives (scopes nest).
class ProfileScope {
 public:
  explicit ProfileScope(Profile& profile) : previous_(detail::active_profile) {
    detail::active_profile = &profile;
    profile.restart();
  }
  ~ProfileScope() { detail::active_profile = previous_; }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  Profile* previous_;
};

/**
 * A tensor value that may carry a place on a Tape. Cheap to copy (a tensor handle, a pointer, an index).
 * Vars are immutable: every operation returns a new Var.
 */
template <Backend B>
class Var {
 public:
  using Backend = B;
  using T = typename B::Scalar;

  //! An empty constant (shape [0]); `defined()` is false.
  Var() = default;
  //! A constant: its value takes part in arithmetic but receives no gradient.
  Var(Tensor<T> value) : value_(std::move(value)), defined_(true) {}  // NOLINT: implicit on purpose (constants)

  const Tensor<T>& value() const { return value_; }
  const Shape& shape() const { return value_.shape(); }
  std::size_t shape(std::size_t axis) const { return value_.shape(axis); }
  std::size_t rank() const { return value_.rank(); }
  std::size_t size() const { return value_.size(); }
  //! The value of a one-element Var.
  T item() const { return value_.item(); }

  bool defined() const { return defined_; }
  //! True when this Var is on a tape, so gradients can flow to it.
  bool requires_grad() const { return tape_ != nullptr; }
  Tape<B>* tape() const { return tape_; }
  std::int64_t index() const { return index_; }

  //! The same value as a constant: gradients stop here (PyTorch's detach, JAX's stop_gradient).
  Var detach() const { return Var(value_); }

 private:
  friend class Tape<B>;
  Var(Tensor<T> value, Tape<B>* tape, std::int64_t index)
      : value_(std::move(value)), tape_(tape), index_(index), defined_(true) {}

  Tensor<T> value_;
  Tape<B>* tape_ = nullptr;
  std::int64_t index_ = -1;
  bool defined_ = false;
};

/// The backward closure of one node: (output, gradient of the output) -> gradient of each input (undefined
/// Var = no gradient for that input).
template <Backend B>
using BackwardFn = std::function<std::vector<Var<B>>(const Var<B>& out, const Var<B>& grad_out)>;

template <Backend B>
struct Node {
  Tensor<typename B::Scalar> value;
  std::vector<Var<B>> inputs;
  BackwardFn<B> backward;  //!< empty for leaves (variables)
  const char* op = "variable";  //!< the op's name (a string literal), for profiles and messages
};

template <Backend B>
class Tape {
 public:
  using T = typename B::Scalar;

  Tape() = default;
  // Vars point at their tape: it must stay where it is.
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  //! A leaf that gradients flow to (an input, a parameter, a learnable image or step size).
  Var<B> variable(Tensor<T> value) {
    nodes_.push_back(Node<B>{value, {}, {}});
    return Var<B>(std::move(value), this, std::int64_t(nodes_.size() - 1));
  }

  /**
   * Records the result of an operation. Ops call this; users do not need to.
   * If recording is off, or no input is on this tape, the result is a constant.
   */
  Var<B> record(Tensor<T> value, std::vector<Var<B>> inputs, BackwardFn<B> backward, const char* op = "op") {
    if (!recording_) return Var<B>(std::move(value));
    bool any = false;
    for (const auto& in : inputs) any = any || in.tape() == this;
    if (!any) return Var<B>(std::move(value));
    if (Profile* profile = detail::active_profile) [[unlikely]] {
      std::size_t bytes = value.size();
      for (const auto& in : inputs) bytes += in.size();
      profile->lap(op, bytes * sizeof(T));
    }
    nodes_.push_back(Node<B>{value, std::move(inputs), std::move(backward), op});
    return Var<B>(std::move(value), this, std::int64_t(nodes_.size() - 1));
  }

  bool recording() const { return recording_; }
  std::size_t size() const { return nodes_.size(); }
  const Node<B>& node(std::int64_t i) const { return nodes_[std::size_t(i)]; }
  //! The output of node i as a Var (used by grad()).
  Var<B> output_of(std::int64_t i) const { return Var<B>(nodes_[std::size_t(i)].value, const_cast<Tape*>(this), i); }

  /// A point on the tape; rewind(mark) forgets every node recorded after it.
  struct Mark {
    std::size_t size;
  };
  Mark mark() const { return {nodes_.size()}; }
  //! Drops the nodes recorded after `m`. Vars that pointed at them must not be used again.
  void rewind(Mark m) {
    DISTILL_CHECK(m.size <= nodes_.size(), "Tape::rewind(): mark ", m.size, " is past the end of the tape (", nodes_.size(), ")");
    nodes_.resize(m.size);
  }
  void clear() { nodes_.clear(); }

  //! Bytes held by node outputs (the dominant part of a tape's memory).
  std::size_t value_bytes() const {
    std::size_t b = 0;
    for (const auto& n : nodes_) b += n.value.size() * sizeof(T);
    return b;
  }

  /// RAII switch for recording (grad() turns it off for first-order backward passes).
  class RecordingGuard {
   public:
    RecordingGuard(Tape& tape, bool on) : tape_(tape), previous_(tape.recording_) { tape.recording_ = on; }
    ~RecordingGuard() { tape_.recording_ = previous_; }
    RecordingGuard(const RecordingGuard&) = delete;
    RecordingGuard& operator=(const RecordingGuard&) = delete;

   private:
    Tape& tape_;
    bool previous_;
  };
  //! Evaluation without recording: `auto guard = tape.no_grad();`.
  [[nodiscard]] RecordingGuard no_grad() { return RecordingGuard(*this, false); }

 private:
  std::deque<Node<B>> nodes_;
  bool recording_ = true;
};

//! The tape shared by a set of inputs (nullptr if all are constants); two different tapes is an error.
template <Backend B>
Tape<B>* common_tape(std::initializer_list<const Var<B>*> vars, const char* op) {
  Tape<B>* tape = nullptr;
  for (const Var<B>* v : vars) {
    if (!v->tape()) continue;
    DISTILL_CHECK(tape == nullptr || tape == v->tape(), op, "(): operands live on different tapes");
    tape = v->tape();
  }
  return tape;
}

//! Records `value` as the output of an op over `inputs` if any input is on a tape; otherwise a constant.
template <Backend B>
Var<B> make_result(Tensor<typename B::Scalar> value, std::vector<Var<B>> inputs, BackwardFn<B> backward, const char* op) {
  Tape<B>* tape = nullptr;
  for (const auto& in : inputs) {
    DISTILL_CHECK(in.defined(), op, "(): an operand is an undefined Var");
    if (!in.tape()) continue;
    DISTILL_CHECK(tape == nullptr || tape == in.tape(), op, "(): operands live on different tapes");
    tape = in.tape();
  }
  if (!tape) return Var<B>(std::move(value));
  return tape->record(std::move(value), std::move(inputs), std::move(backward), op);
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_TAPE_HPP
