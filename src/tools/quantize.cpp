// The engine of `hearth quantize` (see quantize.h). Work split: the writer asks for one
// tensor's bytes at a time; rows of that tensor are handed out in chunks from an atomic
// counter to N threads, each converting its chunk to F32 in its own buffer and quantizing
// straight into the output. Rows are independent in every format, so the result does not
// depend on the thread count.
#include "tools/quantize.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <span>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "core/output_path.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "tools/quant_mix.h"

namespace hearth {
namespace {

using Clock = std::chrono::steady_clock;

// Elements per work chunk: large enough that the counter is not contended, small enough that
// a thread's F32 buffer stays in L2 and a 2-row tensor still splits.
constexpr int64_t kChunkElements = 64 * 1024;

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

// A hyperparameter as an int: a scalar, or the first element of a per-layer array.
int metadata_int(const gguf::File& file, const std::string& key, int fallback) {
  const gguf::Value* v = file.find(key);
  if (!v) return fallback;
  if (const gguf::Array* a = v->as_array()) {
    if (a->items.empty()) return fallback;
    v = &a->items.front();
  }
  const auto i = v->as_i64();
  return i && *i >= 0 && *i < (int64_t{1} << 30) ? int(*i) : fallback;
}

struct Job {
  const gguf::TensorInfo* info;
  GgmlType to;
};

// Shared state of one run, read by the fill callbacks the writer calls in tensor order.
struct Run {
  const QuantizeOptions* options;
  int threads;
  size_t n_tensors;
  uint64_t bytes_total;
  uint64_t bytes_done = 0;
  Clock::time_point start;
  bool started = false;
};

void report(Run& run, size_t index, const Job& job, bool done, uint64_t bytes_done) {
  if (!run.options->on_progress) return;
  QuantizeProgress p;
  p.tensor_index = index;
  p.n_tensors = run.n_tensors;
  p.name = job.info->name;
  p.from = job.info->type;
  p.to = job.to;
  p.tensor_done = done;
  p.bytes_done = bytes_done;
  p.bytes_total = run.bytes_total;
  p.seconds = std::chrono::duration<double>(Clock::now() - run.start).count();
  run.options->on_progress(p);
}

Status convert_tensor(Run& run, size_t index, const Job& job, std::span<uint8_t> out) {
  if (!run.started) {
    run.start = Clock::now();
    run.started = true;
  }
  const gguf::TensorInfo& t = *job.info;
  if (t.type == job.to) {
    if (out.size() != t.nbytes) return Error{fmt::format("tensor {}: size mismatch on copy", t.name)};
    std::memcpy(out.data(), t.data, out.size());
  } else {
    const TypeTraits& from = type_traits(t.type);
    const TypeTraits& to = type_traits(job.to);
    const int64_t n_per_row = t.ne.empty() ? 1 : t.ne[0];
    const int64_t n_rows = t.n_rows();
    const auto in_row = row_bytes(t.type, n_per_row);
    const auto out_row = row_bytes(job.to, n_per_row);
    if (!in_row || !out_row || uint64_t(*out_row) * uint64_t(n_rows) != out.size())
      return Error{fmt::format("tensor {}: row of {} elements does not fit {} -> {}", t.name, n_per_row,
                               from.name, to.name)};
    const int64_t rows_per_chunk = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, n_per_row));
    const int64_t n_chunks = (n_rows + rows_per_chunk - 1) / rows_per_chunk;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> chunks_done{0};
    auto work = [&](bool reporter) {
      std::vector<float> buf(size_t(rows_per_chunk * n_per_row));
      auto last_report = Clock::now();
      for (int64_t c = next.fetch_add(1); c < n_chunks; c = next.fetch_add(1)) {
        const int64_t r0 = c * rows_per_chunk;
        const int64_t nr = std::min(rows_per_chunk, n_rows - r0);
        for (int64_t r = 0; r < nr; ++r) {
          float* row = buf.data() + r * n_per_row;
          from.dequantize(t.data + uint64_t(r0 + r) * *in_row, row, n_per_row);
          to.quantize(row, out.data() + uint64_t(r0 + r) * *out_row, n_per_row, nullptr);
        }
        const int64_t finished = chunks_done.fetch_add(1) + 1;
        if (reporter && Clock::now() - last_report > std::chrono::milliseconds(200)) {
          last_report = Clock::now();
          report(run, index, job, false, run.bytes_done + uint64_t(double(t.nbytes) * finished / n_chunks));
        }
      }
    };
    std::vector<std::thread> helpers;
    const int n_helpers = int(std::min<int64_t>(run.threads, n_chunks)) - 1;
    for (int i = 0; i < n_helpers; ++i) {
      try {
        helpers.emplace_back(work, false);
      } catch (const std::system_error&) {
        break;  // fewer threads than asked: the others share the work
      }
    }
    work(true);
    for (std::thread& h : helpers) h.join();
  }
  run.bytes_done += t.nbytes;
  report(run, index, job, true, run.bytes_done);
  return {};
}

}  // namespace

Result<QuantizeSummary> quantize_file(const QuantizeOptions& options) {
  const auto mix = parse_quant_mix(options.type);
  if (!mix)
    return Error{fmt::format("unknown type '{}'; valid types: {}", options.type, join(quant_mix_names(), ", "))};
  const std::string in_name = options.input.string();
  if (!std::filesystem::exists(options.input))
    return Error{fmt::format("cannot read {}: no such file", in_name)};
  if (Status s = check_output_path(options.output, options.input, "input"); !s.ok()) return s.error();
  auto opened = gguf::File::open(options.input);
  if (!opened) return Error{fmt::format("cannot read {}: {}", in_name, opened.error().message)};
  const gguf::File& file = *opened;

  // The model facts the mix rules look at.
  const auto arch_r = file.get_string("general.architecture");
  const std::string arch = arch_r ? *arch_r : std::string();
  const int n_layer = metadata_int(file, arch + ".block_count", 0);
  const int n_head = metadata_int(file, arch + ".attention.head_count", 0);
  const int n_head_kv = metadata_int(file, arch + ".attention.head_count_kv", n_head);
  const int n_expert = metadata_int(file, arch + ".expert_count", 0);
  const bool tied = file.find_tensor("output.weight") == nullptr;

  // Output order as llama.cpp writes it: outside-layer tensors, then by layer, then by name.
  std::vector<const gguf::TensorInfo*> tensors;
  for (const gguf::TensorInfo& t : file.tensors()) tensors.push_back(&t);
  std::stable_sort(tensors.begin(), tensors.end(), [](const gguf::TensorInfo* a, const gguf::TensorInfo* b) {
    return tensor_name_less(a->name, b->name);
  });
  std::vector<TensorSite> sites;
  for (const gguf::TensorInfo* t : tensors) {
    TensorSite s;
    s.name = t->name;
    s.ne = t->ne;
    s.architecture = arch;
    s.n_layer = n_layer;
    s.n_head = n_head;
    s.n_head_kv = n_head_kv;
    s.n_expert = n_expert;
    s.tied_output = tied;
    s.source_type = t->type;
    sites.push_back(std::move(s));
  }
  const std::vector<GgmlType> types = tensor_types_for_model(*mix, sites);

  std::vector<Job> jobs;
  QuantizeSummary summary;
  summary.file_type = mix->file_type;
  std::vector<std::string> requantized;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const gguf::TensorInfo& t = *tensors[i];
    const GgmlType to = types[i];
    jobs.push_back({&t, to});
    summary.bytes_in += t.nbytes;
    if (to == t.type) continue;
    ++summary.n_quantized;
    const TypeTraits& from_traits = type_traits(t.type);
    const TypeTraits& to_traits = type_traits(to);
    if (!from_traits.dequantize)
      return Error{fmt::format("tensor {}: cannot convert from {} (hearth has no arithmetic for it)", t.name,
                               from_traits.name)};
    if (!to_traits.quantize)
      return Error{fmt::format("tensor {}: hearth cannot write type {}", t.name, to_traits.name)};
    if (t.type != GgmlType::F32 && t.type != GgmlType::F16 && t.type != GgmlType::BF16)
      requantized.push_back(fmt::format("{} ({})", t.name, from_traits.name));
  }
  if (!requantized.empty() && options.on_warning)
    options.on_warning(fmt::format(
        "{} tensor(s) are already quantized and will be requantized, which adds the errors of both "
        "formats; quantize from an F32/F16/BF16 file where you can. First: {}",
        requantized.size(), requantized.front()));

  gguf::Writer writer;
  for (const auto& [key, value] : file.metadata()) {
    if (key == "general.alignment" || key == "split.no" || key == "split.count" || key == "split.tensors.count")
      continue;
    writer.set(key, value);
  }
  // Re-added at the end, in this order, as ggml's gguf_set_* do: the header then matches
  // llama-quantize's byte for byte.
  writer.remove("general.quantization_version");
  writer.remove("general.file_type");
  writer.set("general.quantization_version", gguf::Value::u32(2));
  writer.set("general.file_type", gguf::Value::u32(mix->file_type));
  writer.set_alignment(file.alignment());

  Run run;
  run.options = &options;
  run.threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  run.n_tensors = jobs.size();
  run.bytes_total = summary.bytes_in;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job job = jobs[i];
    Status added = writer.add_tensor(job.info->name, job.to, job.info->ne,
                                     [&run, i, job](std::span<uint8_t> out) { return convert_tensor(run, i, job, out); });
    if (!added.ok()) return Error{fmt::format("tensor {}: {}", job.info->name, added.error().message)};
    summary.bytes_out += row_bytes(job.to, job.info->ne.empty() ? 1 : job.info->ne[0]).value_or(0) *
                         uint64_t(job.info->n_rows());
  }
  summary.n_tensors = jobs.size();
  if (Status s = writer.write(options.output); !s.ok())
    return Error{fmt::format("cannot write {}: {}", options.output.string(), s.error().message)};
  return summary;
}

}  // namespace hearth
