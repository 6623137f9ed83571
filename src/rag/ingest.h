// `hearth rag add`: files (or directories, walked recursively) into a collection. Per file:
// hash the bytes and skip an unchanged one before any parsing or embedding (re-adding a
// folder costs a read per file), else parse → chunk (counted with the chat model's tokenizer)
// → embed → one transaction. A file that cannot be read or parsed is reported and skipped;
// the rest go on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "rag/chunker.h"
#include "rag/embedder.h"
#include "rag/store.h"

namespace hearth::rag {

struct IngestProgress {
  int64_t files_done = 0, files_total = 0;
  int64_t chunks_done = 0;
  double seconds = 0;
  std::string current;  // the file being read
};

struct FileOutcome {
  std::string path;
  enum class Kind { kAdded, kReplaced, kUnchanged, kFailed } kind = Kind::kFailed;
  int64_t chunks = 0;
  std::string error;  // kFailed
};

struct IngestOptions {
  ChunkOptions chunking;
  int64_t embed_batch = 16;  // chunks per embedding pass
  uint64_t max_file_bytes = 64ull << 20;  // larger files are refused, not truncated
  std::function<void(const IngestProgress&)> on_progress;  // after each batch and file
};

// Files to ingest under `paths`: each regular file as given, directories recursively (files of
// the known extensions only: .txt .text .md .markdown .html .htm, plus any extensionless
// file), sorted, hidden entries skipped. Paths that do not exist come back in `missing`.
struct FileList {
  std::vector<std::filesystem::path> files;
  std::vector<std::string> missing;
};
FileList collect_files(std::span<const std::string> paths);

// `count` is the chat model's token counter (chunk sizes), `embedder` the collection's model.
std::vector<FileOutcome> ingest(Store& store, TextEmbedder& embedder, const TokenCounter& count,
                                std::span<const std::filesystem::path> files, const IngestOptions& options);

// What goes through the embedding model for a chunk: its heading path, then its text.
std::string embedding_text(std::string_view heading, std::string_view text);

}  // namespace hearth::rag
