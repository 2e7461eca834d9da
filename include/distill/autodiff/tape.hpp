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
 */

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "distill/core/backend.hpp"
#include "distill/core/error.hpp"
#include "distill/core/tensor.hpp"

namespace distill::ad {

template <Backend B>
class Tape;

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
  Var<B> record(Tensor<T> value, std::vector<Var<B>> inputs, BackwardFn<B> backward) {
    if (!recording_) return Var<B>(std::move(value));
    bool any = false;
    for (const auto& in : inputs) any = any || in.tape() == this;
    if (!any) return Var<B>(std::move(value));
    nodes_.push_back(Node<B>{value, std::move(inputs), std::move(backward)});
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
  return tape->record(std::move(value), std::move(inputs), std::move(backward));
}

}  // namespace distill::ad

#endif  // DISTILL_AUTODIFF_TAPE_HPP
