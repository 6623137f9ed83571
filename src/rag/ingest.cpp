#include "rag/ingest.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/sha256.h"

namespace hearth::rag {
namespace {

bool known_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext.empty() || ext == ".txt" || ext == ".text" || ext == ".md" || ext == ".markdown" || ext == ".mdown" ||
         ext == ".html" || ext == ".htm" || ext == ".xhtml";
}

bool hidden(const std::filesystem::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

Result<std::string> read_file(const std::filesystem::path& file, uint64_t max_bytes) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(file, ec);
  if (ec) return Error{file.string() + ": " + ec.message()};
  if (size > max_bytes) {
    return Error{file.string() + ": " + std::to_string(size) + " bytes, over the limit of " + std::to_string(max_bytes)};
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{file.string() + ": cannot open for reading"};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{file.string() + ": read error"};
  return ss.str();
}

}  // namespace

std::string embedding_text(std::string_view heading, std::string_view text) {
  if (heading.empty()) return std::string(text);
  return std::string(heading) + "\n" + std::string(text);
}

FileList collect_files(std::span<const std::string> paths) {
  FileList out;
  for (const std::string& p : paths) {
    std::error_code ec;
    const std::filesystem::path path = std::filesystem::absolute(p, ec);
    if (ec || !std::filesystem::exists(path, ec)) {
      out.missing.push_back(p);
      continue;
    }
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::filesystem::path> found;
      auto it = std::filesystem::recursive_directory_iterator(
          path, std::filesystem::directory_options::skip_permission_denied, ec);
      for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (hidden(it->path())) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file() && known_extension(it->path())) found.push_back(it->path().lexically_normal());
      }
      std::sort(found.begin(), found.end());
      out.files.insert(out.files.end(), found.begin(), found.end());
    } else {
      out.files.push_back(path.lexically_normal());  // a file named explicitly is taken whatever its extension
    }
  }
  return out;
}

std::vector<FileOutcome> ingest(Store& store, TextEmbedder& embedder, const TokenCounter& count,
                                std::span<const std::filesystem::path> files, const IngestOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  IngestProgress progress;
  progress.files_total = static_cast<int64_t>(files.size());
  auto report = [&] {
    progress.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (options.on_progress) options.on_progress(progress);
  };
  // A chunk must fit the embedding model too: the chunker counts with whichever tokenizer
  // says more, so a chunk sized for the chat model is never cut by a narrower embedder.
  const int64_t embed_room = embedder.context_length() - 64;  // the heading path rides along
  ChunkOptions chunking = options.chunking;
  if (embed_room > 16) chunking.max_tokens = std::min(chunking.max_tokens, embed_room);
  const TokenCounter both = [&](std::string_view s) { return std::max(count(s), embedder.count_tokens(s)); };

  std::vector<FileOutcome> outcomes;
  for (const std::filesystem::path& file : files) {
    progress.current = file.string();
    FileOutcome outcome;
    outcome.path = file.string();
    auto fail = [&](std::string message) {
      outcome.kind = FileOutcome::Kind::kFailed;
      outcome.error = std::move(message);
    };
    do {
      Result<std::string> bytes = read_file(file, options.max_file_bytes);
      if (!bytes) { fail(bytes.error().message); break; }
      Sha256 sha;
      sha.update(std::string_view(*bytes));
      DocumentInfo doc;
      doc.path = file.string();
      doc.sha256 = sha.finish_hex();
      doc.bytes = static_cast<int64_t>(bytes->size());
      Result<std::optional<DocumentInfo>> old = store.find_document(doc.path);
      if (!old) { fail(old.error().message); break; }
      if (*old && (*old)->sha256 == doc.sha256) {
        outcome.kind = FileOutcome::Kind::kUnchanged;
        outcome.chunks = (*old)->n_chunks;
        break;
      }
      const Format format = format_from_path(file);
      doc.format = format_name(format);
      Result<std::vector<Block>> blocks = parse_document(*bytes, format);
      if (!blocks) { fail(file.string() + ": " + blocks.error().message); break; }
      std::vector<Chunk> chunks = chunk_blocks(*blocks, chunking, both);
      std::vector<ChunkRecord> records;
      records.reserve(chunks.size());
      bool failed = false;
      for (size_t at = 0; at < chunks.size() && !failed; at += static_cast<size_t>(options.embed_batch)) {
        const size_t end = std::min(chunks.size(), at + static_cast<size_t>(std::max<int64_t>(1, options.embed_batch)));
        std::vector<std::string> texts;
        for (size_t i = at; i < end; ++i) texts.push_back(embedding_text(chunks[i].heading, chunks[i].text));
        Result<std::vector<std::vector<float>>> vectors = embedder.embed(texts);
        if (!vectors) {
          fail(file.string() + ": chunk " + std::to_string(at) + "..: " + vectors.error().message);
          failed = true;
          break;
        }
        for (size_t i = at; i < end; ++i) {
          records.push_back({chunks[i].heading, chunks[i].text, count(chunks[i].text), std::move((*vectors)[i - at])});
        }
        progress.chunks_done += static_cast<int64_t>(end - at);
        report();
      }
      if (failed) break;
      Result<AddResult> put = store.put_document(doc, records);
      if (!put) { fail(put.error().message); break; }
      outcome.kind = *put == AddResult::kReplaced ? FileOutcome::Kind::kReplaced
                     : *put == AddResult::kAdded  ? FileOutcome::Kind::kAdded
                                                  : FileOutcome::Kind::kUnchanged;
      outcome.chunks = static_cast<int64_t>(records.size());
    } while (false);
    outcomes.push_back(std::move(outcome));
    ++progress.files_done;
    report();
  }
  return outcomes;
}

}  // namespace hearth::rag
