// Every dequantizer against gguf-py's values: for each ../shared/reference/dequant/*.json, open
// the model it describes, dequantize every tensor row by row through the type table, and compare
// the first/last 64 values of row 0 and of the last row (|Δ| ≤ 1e-6·max(1, |x|)) and the
// float64 sum, sum of squares and max |x| over the whole tensor (relative 1e-9), the tolerances
// of ../shared/reference/README.md. One test per JSON file, named after it, so a format whose
// dequantizer is wrong shows up as the files that contain it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "quant/ggml_type.h"
#include "test_data.h"

namespace hearth {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> reference_files() {
  std::vector<std::string> names;
  const fs::path dir = test::reference_dir() / "dequant";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  if (names.empty()) names.push_back("");  // one test that reports the absence and skips
  return names;
}

class ReferenceDequant : public testing::TestWithParam<std::string> {};

void expect_values(const std::vector<float>& row, bool head, const nlohmann::json& want,
                   const std::string& where) {
  ASSERT_TRUE(want.is_array()) << where;
  const size_t n = want.size();
  ASSERT_LE(n, row.size()) << where;
  const size_t start = head ? 0 : row.size() - n;
  int reported = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = want[i].get<double>();
    const double got = row[start + i];
    if (std::fabs(got - w) > 1e-6 * std::max(1.0, std::fabs(w)) && reported++ < 5)
      ADD_FAILURE() << where << " element " << start + i << ": got " << got << ", want " << w;
  }
}

void expect_relative(double got, double want, const std::string& what) {
  const double tol = 1e-9 * std::max(std::fabs(want), 1e-30);
  EXPECT_LE(std::fabs(got - want), tol) << what << ": got " << got << ", want " << want;
}

TEST_P(ReferenceDequant, MatchesGgufPy) {
  if (GetParam().empty())
    GTEST_SKIP() << "no reference JSON in " << (test::reference_dir() / "dequant").string();
  const fs::path json_path = test::reference_dir() / "dequant" / (GetParam() + ".json");
  std::ifstream in(json_path);
  ASSERT_TRUE(in) << json_path;
  const nlohmann::json ref = nlohmann::json::parse(in);
  const fs::path model_path = test::models_dir() / "synth" / ref.at("file").get<std::string>();
  HEARTH_REQUIRE_FILE(model_path);
  auto file = gguf::File::open(model_path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ(file->tensors().size(), ref.at("tensors").size());

  for (const nlohmann::json& rt : ref.at("tensors")) {
    const std::string name = rt.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const gguf::TensorInfo* t = file->find_tensor(name);
    ASSERT_NE(t, nullptr) << "tensor missing";
    const TypeTraits& tt = type_traits(t->type);
    ASSERT_EQ(std::string(tt.name), rt.at("type").get<std::string>());
    ASSERT_EQ(t->ne, rt.at("ne").get<std::vector<int64_t>>());
    EXPECT_EQ(t->offset, rt.at("offset").get<uint64_t>());
    ASSERT_NE(tt.dequantize, nullptr) << "no dequantizer for " << tt.name;

    const int64_t n0 = t->ne[0];
    const int64_t rows = t->n_rows();
    const size_t rb = *row_bytes(t->type, n0);
    ASSERT_EQ(t->nbytes, rb * size_t(rows));
    std::vector<float> row(static_cast<size_t>(n0));
    double sum = 0.0, sumsq = 0.0, absmax = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      tt.dequantize(t->data + size_t(r) * rb, row.data(), n0);
      for (float v : row) {
        sum += v;
        sumsq += double(v) * v;
        absmax = std::max(absmax, double(std::fabs(v)));
      }
      if (r == 0) {
        expect_values(row, true, rt.at("row0_head"), "row 0 head");
        expect_values(row, false, rt.at("row0_tail"), "row 0 tail");
      }
      if (r == rows - 1) {
        expect_values(row, true, rt.at("last_row_head"), "last row head");
        expect_values(row, false, rt.at("last_row_tail"), "last row tail");
      }
    }
    expect_relative(sum, rt.at("sum").get<double>(), "sum");
    expect_relative(sumsq, rt.at("sumsq").get<double>(), "sumsq");
    expect_relative(absmax, rt.at("absmax").get<double>(), "absmax");
  }
}

INSTANTIATE_TEST_SUITE_P(SharedFiles, ReferenceDequant, testing::ValuesIn(reference_files()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param.empty() ? "none" : info.param;
                           for (char& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

}  // namespace
}  // namespace hearth
