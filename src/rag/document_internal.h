// Shared pieces of the document parsers (document.cpp, document_markdown.cpp, document_html.cpp).
// Not part of the rag API: the input these functions see has already been validated as UTF-8
// without NUL, had its BOM stripped and its line endings normalised to "\n".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rag/document.h"

namespace hearth::rag::detail {

// The parsers mark a hard line break (HTML <br>) with a NUL byte: validation has already rejected
// NUL in the input, so the marker cannot collide with real text.
inline constexpr char kHardBreak = '\0';

// Runs of ASCII whitespace and U+00A0 become one space, ends are trimmed; kHardBreak becomes "\n"
// (swallowing the spaces around it), so a <br> survives as a line break inside the block.
std::string collapse_whitespace(std::string_view s);

void append_utf8(uint32_t cp, std::string& out);

// s starts with '&'. Appends the decoded character and returns the bytes consumed, or returns 0
// (appending nothing) when s does not start a character reference we know.
size_t decode_entity(std::string_view s, std::string& out);

std::vector<Block> parse_markdown(std::string_view text);
std::vector<Block> parse_html(std::string_view text);

}  // namespace hearth::rag::detail
