// Stop strings over streamed text. Generated text arrives in pieces (whole UTF-8 characters,
// from the detokenizer) and a stop string may span several tokens, so text that could still
// become the start of a stop string is held back until it either completes one (everything
// from the match on is dropped) or can no longer do so (it is released).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hearth::server {

class StopMatcher {
 public:
  StopMatcher() = default;
  explicit StopMatcher(std::vector<std::string> stops);  // empty strings are ignored

  // Appends `text`; returns what may be sent now. After a match, returns the text before the
  // earliest match, and matched() is set; further pushes return "".
  std::string push(std::string_view text);
  // The end of generation without a match: the held text.
  std::string flush();

  bool matched() const { return matched_; }
  const std::string& matched_stop() const { return matched_stop_; }
  size_t held_bytes() const { return held_.size(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool matched_ = false;
  std::string matched_stop_;
};

}  // namespace hearth::server
