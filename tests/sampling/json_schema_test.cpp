// JSON Schema → grammar: every supported keyword accepts what the schema allows and refuses what
// it does not; unsupported keywords are errors naming them; and the property that matters —
// random sampling (random logits over real vocabularies, and a random-weight model through the
// scheduler) under random schemas always yields text that parses and validates.
#include "sampling/json_schema.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gguf/reader.h"
#include "sampling/sampler.h"
#include "test_data.h"
#include "tokenizer/tokenizer.h"

namespace hearth::sampling {
namespace {

using json = nlohmann::json;

std::shared_ptr<const Grammar> compile(const json& schema, int max_ws = 20) {
  JsonGrammarOptions o;
  o.max_ws = max_ws;
  Result<std::shared_ptr<const Grammar>> g = compile_json_schema(schema, o);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message) << "\n" << schema.dump();
  return g.ok() ? *g : nullptr;
}

// Declared property order matters: nlohmann::json would sort the keys.
std::shared_ptr<const Grammar> compile_ordered(const char* text) {
  Result<std::shared_ptr<const Grammar>> g = compile_json_schema(nlohmann::ordered_json::parse(text));
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message) << "\n" << text;
  return g.ok() ? *g : nullptr;
}

bool matches(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.accept(text) && m.complete();
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// A validator for the keywords the compiler supports (the test's oracle).
bool validate(const json& s, const json& v, const json& root) {
  if (s.is_boolean()) return s.get<bool>();
  if (s.contains("$ref")) {
    return validate(root.at(json::json_pointer(s["$ref"].get<std::string>().substr(1))), v, root);
  }
  if (s.contains("const")) return v == s["const"];
  if (s.contains("enum")) {
    for (const json& e : s["enum"])
      if (e == v) return true;
    return false;
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!s.contains(key)) continue;
    for (const json& sub : s[key])
      if (validate(sub, v, root)) return true;
    return false;
  }
  if (s.contains("type") && s["type"].is_array()) {
    for (const json& t : s["type"]) {
      json one = s;
      one["type"] = t;
      if (validate(one, v, root)) return true;
    }
    return false;
  }
  const std::string t = s.value("type", s.contains("properties") ? "object" : "");
  if (t == "string") {
    if (!v.is_string()) return false;
    const size_t n = code_points(v.get<std::string>());
    return n >= s.value("minLength", size_t(0)) && n <= s.value("maxLength", size_t(1) << 40);
  }
  if (t == "integer" || t == "number") {
    if (t == "integer" ? !v.is_number_integer() : !v.is_number()) return false;
    const double d = v.get<double>();
    if (t == "number") {  // only the sign is enforced for non-integers
      if (s.contains("minimum") && s["minimum"].get<double>() >= 0 && d < 0) return false;
      return true;
    }
    if (s.contains("minimum") && d < s["minimum"].get<double>()) return false;
    if (s.contains("maximum") && d > s["maximum"].get<double>()) return false;
    if (s.contains("exclusiveMinimum") && d <= s["exclusiveMinimum"].get<double>()) return false;
    if (s.contains("exclusiveMaximum") && d >= s["exclusiveMaximum"].get<double>()) return false;
    return true;
  }
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "array") {
    if (!v.is_array()) return false;
    if (v.size() < s.value("minItems", size_t(0)) || v.size() > s.value("maxItems", size_t(1) << 40))
      return false;
    for (const json& item : v)
      if (s.contains("items") && !validate(s["items"], item, root)) return false;
    return true;
  }
  if (t == "object") {
    if (!v.is_object()) return false;
    const json props = s.value("properties", json::object());
    for (const json& r : s.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) return false;
    for (const auto& [k, item] : v.items()) {
      if (!props.contains(k)) {
        if (props.empty() && !s.contains("additionalProperties")) continue;
        return false;
      }
      if (!validate(props[k], item, root)) return false;
    }
    return true;
  }
  return true;  // no type: any value
}

TEST(JsonSchema, ObjectsRequiredAndOptionalPropertiesInOrder) {
  auto g = compile_ordered(R"({"type": "object",
    "properties": {"c": {"type": "boolean"}, "a": {"type": "integer"}, "b": {"type": "string"}},
    "required": ["b"]})");
  ASSERT_TRUE(g);
  for (const char* ok : {R"({"b":"x"})", R"({"a":1,"b":""})", R"({"c":true,"b":"x"})",
                         R"({ "c" : false , "a" : -3 , "b" : "y" })", "{\n  \"a\": 0,\n  \"b\": \"\"\n}"})
    EXPECT_TRUE(matches(g, ok)) << ok;
  for (const char* bad : {"{}", R"({"a":1})", R"({"b":"x","a":1})", R"({"b":"x","c":true})", R"({"b":"x","d":1})",
                          R"({"b":1})", R"({"b":"x",})", R"( {"b":"x"})", R"({"b":"x"} )",
                          R"({"a":01,"b":"x"})"})
    EXPECT_FALSE(matches(g, bad)) << bad;
  auto empty = compile(json::parse(R"({"type":"object","properties":{"x":{}}})"));
  EXPECT_TRUE(matches(empty, "{}"));
  EXPECT_TRUE(matches(empty, R"({"x":[1,{"y":null}]})"));
}

TEST(JsonSchema, StringsWithLengthsAndEscapes) {
  auto g = compile(json::parse(R"({"type":"string","minLength":2,"maxLength":3})"));
  EXPECT_FALSE(matches(g, R"("a")"));
  EXPECT_TRUE(matches(g, R"("ab")"));
  EXPECT_TRUE(matches(g, "\"\xC3\xA9\\n\\u00e9\""));  // é, \n, \u00e9: three characters
  EXPECT_FALSE(matches(g, R"("abcd")"));
  auto any = compile(json::parse(R"({"type":"string"})"));
  EXPECT_TRUE(matches(any, R"("say \"hi\"\\ \/ \b\f\r\t")"));
  EXPECT_FALSE(matches(any, "\"tab\there\""));  // raw control characters are not JSON
  EXPECT_FALSE(matches(any, R"("\x")"));
  EXPECT_FALSE(matches(any, R"("\ud800")"));  // a lone surrogate escape
}

TEST(JsonSchema, IntegerBoundsAreExact) {
  const std::pair<int, int> ranges[] = {{-15, 123}, {0, 9}, {7, 7}, {10, 99}, {-200, -13}, {5, 1000}};
  for (auto [lo, hi] : ranges) {
    auto g = compile(json{{"type", "integer"}, {"minimum", lo}, {"maximum", hi}});
    ASSERT_TRUE(g);
    for (int v = -1100; v <= 1100; ++v)
      ASSERT_EQ(matches(g, std::to_string(v)), v >= lo && v <= hi) << v << " in [" << lo << "," << hi << "]";
    EXPECT_FALSE(matches(g, "+1"));
    EXPECT_FALSE(matches(g, "1.0"));
  }
  auto exclusive = compile(json{{"type", "integer"}, {"exclusiveMinimum", 0}, {"exclusiveMaximum", 3}});
  EXPECT_FALSE(matches(exclusive, "0"));
  EXPECT_TRUE(matches(exclusive, "1"));
  EXPECT_TRUE(matches(exclusive, "2"));
  EXPECT_FALSE(matches(exclusive, "3"));
  auto half = compile(json{{"type", "integer"}, {"minimum", 100}});
  EXPECT_FALSE(matches(half, "99"));
  EXPECT_TRUE(matches(half, "100"));
  EXPECT_TRUE(matches(half, "123456789012345"));
  EXPECT_FALSE(matches(half, "-100"));
}

TEST(JsonSchema, NumbersBooleansNullEnumConst) {
  auto num = compile(json{{"type", "number"}});
  for (const char* ok : {"0", "-0", "3.25", "-1e5", "6.02E+23", "1.5e-3"}) EXPECT_TRUE(matches(num, ok)) << ok;
  for (const char* bad : {"01", "1.", ".5", "+1", "1e", "NaN", "Infinity"}) EXPECT_FALSE(matches(num, bad)) << bad;
  auto positive = compile(json{{"type", "number"}, {"minimum", 0}});
  EXPECT_TRUE(matches(positive, "2.5"));
  EXPECT_FALSE(matches(positive, "-2.5"));
  auto b = compile(json{{"type", "boolean"}});
  EXPECT_TRUE(matches(b, "true"));
  EXPECT_FALSE(matches(b, "True"));
  EXPECT_TRUE(matches(compile(json{{"type", "null"}}), "null"));
  auto e = compile(json::parse(R"({"enum": ["on", "off", 3, null, {"a": [1]}]})"));
  for (const char* ok : {R"("on")", R"("off")", "3", "null", R"({"a":[1]})"}) EXPECT_TRUE(matches(e, ok)) << ok;
  EXPECT_FALSE(matches(e, R"("of")"));
  auto c = compile(json::parse(R"({"const": "light.kitchen"})"));
  EXPECT_TRUE(matches(c, R"("light.kitchen")"));
  EXPECT_FALSE(matches(c, R"("light.hall")"));
  auto multi = compile(json::parse(R"({"type": ["string", "null"], "maxLength": 1})"));
  EXPECT_TRUE(matches(multi, "null"));
  EXPECT_TRUE(matches(multi, R"("x")"));
  EXPECT_FALSE(matches(multi, R"("xy")"));
}

TEST(JsonSchema, ArraysNestingAnyOfAndRefs) {
  auto arr = compile(json::parse(R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3})"));
  EXPECT_FALSE(matches(arr, "[]"));
  EXPECT_TRUE(matches(arr, "[1]"));
  EXPECT_TRUE(matches(arr, "[1, 2 ,3]"));
  EXPECT_FALSE(matches(arr, "[1,2,3,4]"));
  EXPECT_FALSE(matches(arr, "[1,]"));
  EXPECT_TRUE(matches(compile(json::parse(R"({"type":"array","maxItems":0})")), "[]"));
  EXPECT_TRUE(matches(compile(json::parse(R"({"type":"array"})")), R"([1,"a",[],{}])"));

  const char* nested = (R"({
    "type": "object",
    "properties": {
      "entity": {"anyOf": [{"type": "string", "enum": ["light.a", "switch.b"]}, {"type": "null"}]},
      "data": {"type": "object", "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 100}},
               "required": ["level"]},
      "tree": {"$ref": "#/$defs/node"}
    },
    "required": ["entity", "data"],
    "$defs": {"node": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}
  })");
  auto g = compile_ordered(nested);
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, R"({"entity":"light.a","data":{"level":100}})"));
  EXPECT_TRUE(matches(g, R"({"entity":null,"data":{"level":0},"tree":{"kids":[{},{"kids":[]}]}})"));
  EXPECT_FALSE(matches(g, R"({"entity":"light.c","data":{"level":1}})"));
  EXPECT_FALSE(matches(g, R"({"entity":null,"data":{"level":101}})"));
  EXPECT_FALSE(matches(g, R"({"entity":null,"data":{}})"));

  auto map = compile(json::parse(R"({"type":"object","additionalProperties":{"type":"integer"}})"));
  EXPECT_TRUE(matches(map, R"({"x":1,"y":2})"));
  EXPECT_FALSE(matches(map, R"({"x":"1"})"));
  auto closed = compile(json::parse(R"({"type":"object","additionalProperties":false})"));
  EXPECT_TRUE(matches(closed, "{}"));
  EXPECT_FALSE(matches(closed, R"({"x":1})"));
}

TEST(JsonSchema, UnsupportedAndMalformedSchemasNameTheProblem) {
  const std::pair<const char*, const char*> bad[] = {
      {R"({"type":"string","pattern":"^a"})", "'pattern' is not supported"},
      {R"({"type":"object","properties":{"x":{"allOf":[]}}})", "schema.properties.x: 'allOf'"},
      {R"({"type":"number","multipleOf":2})", "multipleOf"},
      {R"({"type":"martian"})", "unknown type 'martian'"},
      {R"({"type":"object","properties":{"a":{}},"required":["b"]})", "'b', which is not in"},
      {R"({"enum":[]})", "enum"},
      {R"({"$ref":"http://example.com/s.json"})", "only local references"},
      {R"({"$ref":"#/$defs/missing"})", "does not exist"},
      {R"({"type":"string","maxLength":-1})", "maxLength"},
      {R"({"type":"string","minLength":3,"maxLength":2})", "smaller"},
      {R"({"type":"integer","minimum":5,"maximum":4})", "no value"},
      {R"(false)", "matches nothing"},
      {R"(3)", "must be an object"},
  };
  for (const auto& [text, needle] : bad) {
    Result<std::shared_ptr<const Grammar>> g = compile_json_schema(json::parse(text));
    ASSERT_FALSE(g.ok()) << text;
    EXPECT_NE(g.error().message.find(needle), std::string::npos) << text << " -> " << g.error().message;
  }
  // Annotations are ignored.
  EXPECT_TRUE(compile_json_schema(json::parse(
      R"({"$schema":"https://json-schema.org/draft/2020-12/schema","title":"T","description":"d",
          "type":"object","properties":{"x":{"type":"string","format":"date-time","default":"a"}}})")).ok());
}

TEST(JsonSchema, GenericJsonObject) {
  auto g = compile_json_object();
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, R"({"a":[1,2.5,-3e2,true,false,null,"s",{"b":{}}]})"));
  EXPECT_FALSE(matches(g, "[1]"));  // json_object: an object at the top
  EXPECT_FALSE(matches(g, R"({"a":1,})"));
}

// ---- property: random schemas, random sampling ------------------------------------------------

// A random schema from the supported keywords, finite (every string and array is bounded) so
// that sampling ends.
json random_schema(Rng& rng, int depth) {
  const auto pick = [&](int n) { return int(rng.next_u64() % uint64_t(n)); };
  const int kind = pick(depth > 0 ? 11 : 8);
  switch (kind) {
    case 0: {
      json s = {{"type", "string"}, {"maxLength", pick(5)}};
      if (pick(2)) s["minLength"] = pick(int(s["maxLength"]) + 1);
      return s;
    }
    case 1: {
      json s = {{"type", "integer"}};
      if (pick(2)) s["minimum"] = pick(40) - 20;
      if (pick(2)) s["maximum"] = s.value("minimum", -20) + pick(300);
      return s;
    }
    case 2: return pick(2) ? json{{"type", "number"}} : json{{"type", "number"}, {"minimum", 0}};
    case 3: return {{"type", "boolean"}};
    case 4: return {{"type", "null"}};
    case 5: return {{"enum", {"on", "off", 42, nullptr, json::array({1, "x"})}}};
    case 6: return {{"const", "light.kitchen"}};
    case 7: return {{"type", json::array({"boolean", "null"})}};
    case 8: {
      json s = {{"type", "object"}, {"properties", json::object()}};
      json required = json::array();
      const int n = 1 + pick(3);
      for (int i = 0; i < n; ++i) {
        const std::string name = std::string(1, char('a' + i)) + (pick(2) ? "_x" : "");
        s["properties"][name] = random_schema(rng, depth - 1);
        if (pick(2)) required.push_back(name);
      }
      s["required"] = required;
      return s;
    }
    case 9: {
      json s = {{"type", "array"}, {"items", random_schema(rng, depth - 1)}, {"maxItems", 1 + pick(3)}};
      if (pick(2)) s["minItems"] = pick(2);
      return s;
    }
    default:
      return {{"anyOf", {random_schema(rng, depth - 1), random_schema(rng, depth - 1)}}};
  }
}

struct TestVocab {
  std::unique_ptr<tokenizer::Vocab> vocab;
  std::unique_ptr<TokenTrie> trie;
};

TestVocab load_vocab(const std::filesystem::path& path) {
  TestVocab t;
  Result<gguf::File> f = gguf::File::open(path);
  if (!f) {
    ADD_FAILURE() << f.error().message;
    return t;
  }
  Result<tokenizer::Vocab> v = tokenizer::Vocab::load(*f);
  if (!v) {
    ADD_FAILURE() << v.error().message;
    return t;
  }
  t.vocab = std::make_unique<tokenizer::Vocab>(std::move(*v));
  t.trie = std::make_unique<TokenTrie>(make_token_trie(*t.vocab));
  return t;
}

// Samples under the grammar with random logits (end-of-generation favoured so runs finish).
// Returns whether the sentence completed within `budget` tokens; `out` gets the text.
bool sample_under(const TestVocab& tv, const std::shared_ptr<const Grammar>& g, uint64_t seed,
                  int budget, std::string& out) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  Sampler sampler(p);
  Rng noise(seed * 7919 + 1);
  GrammarMatcher m(g);
  std::vector<uint8_t> mask;
  std::vector<float> logits(tv.vocab->size());
  out.clear();
  for (int step = 0; step < budget; ++step) {
    m.fill_mask(*tv.trie, mask);
    const uint8_t eog = m.complete() ? 1 : 0;
    for (int32_t e : tv.vocab->eog_ids()) mask[size_t(e)] = eog;
    for (float& l : logits) l = float(noise.next_double() * 6.0 - 3.0);
    for (int32_t e : tv.vocab->eog_ids()) logits[size_t(e)] = 8.0f;
    Result<int32_t> id = sampler.sample(logits, mask);
    EXPECT_TRUE(id.ok()) << "no token allowed after '" << out << "'";
    if (!id.ok()) return false;
    if (tv.vocab->is_eog(*id)) return true;
    const std::string piece = tokenizer::token_to_piece(*tv.vocab, *id, false);
    EXPECT_TRUE(m.accept(piece)) << "masked-in token '" << piece << "' refused after '" << out << "'";
    out += piece;
    if (m.complete() && !m.can_continue()) return true;
  }
  return false;
}

void check_random_schemas(const std::filesystem::path& vocab_path, int n_schemas, int budget) {
  HEARTH_REQUIRE_FILE(vocab_path);
  TestVocab tv = load_vocab(vocab_path);
  ASSERT_TRUE(tv.vocab);
  Rng rng(1234);
  int completed = 0;
  for (int i = 0; i < n_schemas; ++i) {
    const json schema = {{"type", "object"},
                         {"properties", {{"x", random_schema(rng, 2)}, {"y", random_schema(rng, 1)}}},
                         {"required", i % 2 ? json::array({"x"}) : json::array({"x", "y"})}};
    auto g = compile(schema, 1);
    ASSERT_TRUE(g);
    std::string out;
    if (!sample_under(tv, g, uint64_t(i) + 1, budget, out)) continue;
    ++completed;
    const json v = json::parse(out, nullptr, false);
    ASSERT_FALSE(v.is_discarded()) << "not JSON: " << out << "\nschema: " << schema.dump();
    EXPECT_TRUE(validate(schema, v, schema)) << "invalid: " << out << "\nschema: " << schema.dump();
  }
  // Bounded schemas and a favoured end token: nearly every run finishes.
  EXPECT_GE(completed, n_schemas / 2);
}

TEST(JsonSchemaProperty, RandomSchemasSentencePieceVocab) {
  check_random_schemas(test::models_dir() / "vocab" / "ggml-vocab-llama-spm.gguf", 12, 160);
}

TEST(JsonSchemaProperty, RandomSchemasByteLevelBpeVocab) {
  // GPT-2's byte-level tokens split UTF-8 characters: partial characters in the mask.
  check_random_schemas(test::models_dir() / "vocab" / "ggml-vocab-gpt-2.gguf", 6, 160);
}

TEST(JsonSchemaProperty, RandomSchemasTinyVocabMaskEqualsBruteForce) {
  const auto path = test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf";
  HEARTH_REQUIRE_FILE(path);
  TestVocab tv = load_vocab(path);
  ASSERT_TRUE(tv.vocab);
  check_random_schemas(path, 24, 200);
  // The trie walk against accepting every token alone, along one sampled path.
  Rng rng(99);
  const json schema = {{"type", "object"}, {"properties", {{"k", random_schema(rng, 2)}}}, {"required", {"k"}}};
  auto g = compile(schema, 1);
  std::string out;
  sample_under(tv, g, 5, 40, out);
  GrammarMatcher m(g);
  std::vector<uint8_t> mask;
  for (size_t i = 0; i <= out.size(); ++i) {
    m.fill_mask(*tv.trie, mask);
    for (size_t id = 0; id < tv.vocab->size(); ++id) {
      const std::string piece = tokenizer::token_to_piece(*tv.vocab, int32_t(id), false);
      GrammarMatcher copy = m;
      ASSERT_EQ(mask[id] != 0, !piece.empty() && copy.accept(piece)) << "token " << id;
    }
    if (i < out.size()) ASSERT_TRUE(m.accept(out.substr(i, 1)));
  }
}

// Review findings: schemas whose compile or matching cost grows exponentially, or whose
// repetitions expand to millions of rules, are bounded.
TEST(JsonSchema, ExponentialTypeListsAreRefused) {
  json s = {{"type", "integer"}};
  for (int i = 0; i < 20; ++i) s = {{"type", {"array", "array"}}, {"items", s}};
  auto g = json_schema_to_grammar(s);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("too large"), std::string::npos) << g.error().message;
}

TEST(JsonSchema, RepetitionsExpandingPastTheRuleCapAreRefused) {
  json props = json::object();
  for (int i = 0; i < 20; ++i) props["p" + std::to_string(i)] = {{"type", "string"}, {"maxLength", 10000}};
  auto g = compile_json_schema(json{{"type", "object"}, {"properties", props}});
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("rules"), std::string::npos) << g.error().message;
}

TEST(JsonSchema, AmbiguousAlternativesStayBounded) {
  // a0 = string; aN = anyOf of four look-alike arrays of a(N-1): 4^N readings of "[[[...".
  json defs = {{"a0", {{"type", "string"}}}};
  for (int n = 1; n <= 8; ++n) {
    json alt = {{"type", "array"}, {"items", {{"$ref", "#/$defs/a" + std::to_string(n - 1)}}}};
    defs["a" + std::to_string(n)] = {{"anyOf", {alt, alt, alt, alt}}};
  }
  auto g = compile_json_schema(json{{"$defs", defs}, {"$ref", "#/$defs/a8"}});
  ASSERT_TRUE(g) << g.error().message;
  GrammarMatcher m(*g);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(m.accept("[")) << i;  // each step capped, so this ends
  EXPECT_TRUE(m.overflowed());
  EXPECT_TRUE(m.accept("\"x\"]]]]]]]]"));  // what survives still parses the real sentence
  EXPECT_TRUE(m.complete());
}

}  // namespace
}  // namespace hearth::sampling
