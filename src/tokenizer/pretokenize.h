// Splitting text into words before byte-level BPE, by the rules `tokenizer.ggml.pre` names.
// Each rule family is a small hand-written matcher over code point categories (no regex
// engine): the patterns are fixed, and a matcher per pattern is both faster and, unlike
// std::regex, cannot backtrack without bound on hostile input. The rules reproduce the
// regular expressions of the original tokenizers as llama.cpp applies them: a list of
// patterns, each splitting every piece the previous one left into matches and the gaps
// between them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

// Words as UTF-8 (invalid input bytes come back as U+FFFD, as llama.cpp decodes them).
std::vector<std::string> pre_tokenize(PreTokenizer kind, std::string_view text);

}  // namespace hearth::tokenizer
