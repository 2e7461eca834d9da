// SPDX-License-Identifier: MIT
// Copyright (c) 2026 The distill authors
#ifndef DISTILL_CORE_TRANSFORM_LIST_HPP
#define DISTILL_CORE_TRANSFORM_LIST_HPP

/**
 * @file
 * Transform lists written as names joined by '_' ("color_crop_cutout_scale_rotate"), the way the DSA code and the
 * DC code name their augmentation strategies: one parser for both (synthetic/dsa.hpp, eval/dc_augment.hpp), so that
 * they accept and reject the same strings with the same messages.
 */

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "distill/core/error.hpp"

namespace distill {

/**
 * The members of `all` that `text` names, in its order: names (name_of(member)) joined by '_'; "", "none" and
 * "None" (the papers' code spells it both ways) are the empty list.
 *
 * @param what  what the text is, for messages: "DSA strategy"
 * @throw invalid_argument `<what> 'color_zoom': unknown transform 'zoom'; valid: color, crop, ... joined by '_'`,
 *        and likewise for a name given twice or an empty name ("color__crop")
 */
template <class E, std::size_t N, class NameOf>
std::vector<E> parse_transform_list(std::string_view text, const E (&all)[N], NameOf name_of, std::string_view what) {
  std::vector<E> out;
  if (text.empty() || text == "none" || text == "None") return out;
  std::string valid;
  for (const E& t : all) valid += (valid.empty() ? "" : ", ") + std::string(name_of(t));
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t end = std::min(text.find('_', at), text.size());
    const std::string_view word = text.substr(at, end - at);
    const E* found = nullptr;
    for (const E& t : all)
      if (word == name_of(t)) found = &t;
    DISTILL_CHECK(found != nullptr, what, " '", text, "': unknown transform '", word, "'; valid: ", valid, " joined by '_'");
    for (const E& seen : out)
      DISTILL_CHECK(seen != *found, what, " '", text, "' names transform '", word, "' twice");
    out.push_back(*found);
    at = end + 1;
  }
  return out;
}

}  // namespace distill

#endif  // DISTILL_CORE_TRANSFORM_LIST_HPP
