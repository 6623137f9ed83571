// Documents as the RAG store reads them: a file's bytes become a list of blocks (headings,
// paragraphs, list items, code, table rows) that the chunker packs into token-bounded chunks.
// Plain text splits on blank lines; Markdown on ATX/setext headings, fences and list items;
// HTML on its block elements, with script/style/nav dropped and entities decoded. Nothing is
// silently lost: every character of visible text lands in some block.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hearth::rag {

enum class Format { kText, kMarkdown, kHtml };

// By extension: .md .markdown .mdown → Markdown; .html .htm .xhtml → HTML; anything else text.
Format format_from_path(const std::filesystem::path& path);
const char* format_name(Format f);  // "text" | "markdown" | "html"

struct Block {
  enum class Kind { kHeading, kParagraph, kListItem, kCode, kTableRow };
  Kind kind = Kind::kParagraph;
  int level = 0;     // headings: 1..6; others 0
  std::string text;  // UTF-8, whitespace collapsed except in code
};

// An Error (naming the byte offset) for input that is not text: a NUL byte or invalid UTF-8.
Result<std::vector<Block>> parse_document(std::string_view bytes, Format format);

}  // namespace hearth::rag
