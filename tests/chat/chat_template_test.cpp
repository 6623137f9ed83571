// Real chat templates (tests/chat/templates/*.jinja, each model's published `chat_template`)
// rendered against expected.json, which render_reference.py wrote with Jinja2 set up exactly as
// HF transformers renders them. A few outputs are also pinned by hand from the formats the model
// cards document, so the oracle is not the only witness.
#include "chat/chat_template.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "chat/model_template.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "test_data.h"

namespace hearth::chat {
namespace {

using json = nlohmann::ordered_json;

std::filesystem::path templates_dir() {
  return test::source_dir() / "tests" / "chat" / "templates";
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string render_file(const std::string& file, const std::string& bos, const std::string& eos,
                        const json& context, int64_t now_unix = 1726401600) {
  auto t = ChatTemplate::create(read_text(templates_dir() / file), bos, eos);
  if (!t) return "PARSE ERROR: " + t.error().message;
  jinja::RenderOptions opt;
  opt.now_unix = now_unix;
  auto out = t->apply_json(context, opt);
  if (!out) return "ERROR: " + out.error().message;
  return *out;
}

const std::vector<Message> kConversation = {
    {"system", "You are a helpful assistant"},
    {"user", "Hello"},
    {"assistant", "Hi there"},
    {"user", "Who are you"},
    {"assistant", "   I am an assistant   "},
    {"user", "Another question"},
};

TEST(ChatTemplateReference, EveryCaseMatchesJinja2) {
  const json ref = json::parse(read_text(templates_dir() / "expected.json"));
  const int64_t now = ref.at("now_unix").get<int64_t>();
  size_t n = 0;
  for (const json& c : ref.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    auto t = ChatTemplate::create(read_text(templates_dir() / c.at("template").get<std::string>()),
                                  c.at("bos_token").get<std::string>(),
                                  c.at("eos_token").get<std::string>());
    ASSERT_TRUE(t.ok()) << t.error().message;
    jinja::RenderOptions opt;
    opt.now_unix = now;
    auto out = t->apply_json(c.at("context"), opt);
    if (c.contains("error")) {
      ASSERT_FALSE(out.ok()) << *out;
      EXPECT_NE(out.error().message.find(c.at("error").get<std::string>()), std::string::npos)
          << out.error().message;
    } else {
      ASSERT_TRUE(out.ok()) << out.error().message;
      EXPECT_EQ(*out, c.at("expected").get<std::string>());
    }
    ++n;
  }
  EXPECT_GE(n, 98u);
}

// Outputs documented outside the oracle: HF transformers runs recorded by other projects, and
// the prompt formats in the model cards.
TEST(ChatTemplateDocumented, Llama2ChatAsTransformersRendersIt) {
  auto out =
      render(read_text(templates_dir() / "llama2_chat.jinja"), kConversation, true, "<s>", "</s>");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(
      *out,
      "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s>"
      "<s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]");
}

TEST(ChatTemplateDocumented, MistralV01AndV02) {
  const std::vector<Message> turns(kConversation.begin() + 1, kConversation.end());
  auto v1 = render(read_text(templates_dir() / "mistral_7b_instruct_v0_1.jinja"), turns, true,
                   "<s>", "</s>");
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(
      *v1,
      "<s>[INST] Hello [/INST]Hi there</s> [INST] Who are you [/INST]   I am an assistant   </s> "
      "[INST] Another question [/INST]");
  auto v2 = render(read_text(templates_dir() / "mistral_7b_instruct_v0_2.jinja"), turns, true,
                   "<s>", "</s>");
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ(
      *v2,
      "<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>"
      "[INST] Another question [/INST]");
  // Both refuse a system message with the template's own words.
  auto bad = render(read_text(templates_dir() / "mistral_7b_instruct_v0_2.jinja"), kConversation,
                    true, "<s>", "</s>");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("Conversation roles must alternate"), std::string::npos);
}

TEST(ChatTemplateDocumented, ZephyrAndTinyLlama) {
  const std::vector<Message> msgs = {{"system", "You are a friendly chatbot"},
                                     {"user", "How many helicopters?"}};
  const std::string expected =
      "<|system|>\nYou are a friendly chatbot</s>\n<|user|>\nHow many "
      "helicopters?</s>\n<|assistant|>\n";
  for (const char* file : {"zephyr_7b_beta.jinja", "tinyllama_chat_v1.jinja"}) {
    auto out = render(read_text(templates_dir() / file), msgs, true, "<s>", "</s>");
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, expected) << file;
  }
}

TEST(ChatTemplateDocumented, Llama3AndChatmlAndPhi3) {
  const std::vector<Message> msgs = {{"system", "S"}, {"user", " Hi "}};
  auto l3 = render(read_text(templates_dir() / "llama3_instruct.jinja"), msgs, true,
                   "<|begin_of_text|>", "<|eot_id|>");
  ASSERT_TRUE(l3.ok());
  EXPECT_EQ(*l3,
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|"
            "end_header_id|>\n\n");
  auto cm = render(read_text(templates_dir() / "qwen2_instruct.jinja"),
                   {msgs.begin() + 1, msgs.end()}, true, "", "<|im_end|>");
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ(*cm,
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n Hi "
            "<|im_end|>\n"
            "<|im_start|>assistant\n");
  auto p3 = render(read_text(templates_dir() / "phi3_mini_instruct.jinja"), msgs, false, "<s>",
                   "<|endoftext|>");
  ASSERT_TRUE(p3.ok());
  EXPECT_EQ(*p3, "<|system|>\nS<|end|>\n<|user|>\n Hi <|end|>\n<|endoftext|>");
}

TEST(ChatTemplateDocumented, Llama31ToolsInFirstUserMessage) {
  const json ctx = {
      {"messages",
       {{{"role", "system"}, {"content", "You answer weather questions."}},
        {{"role", "user"}, {"content", "Weather in Paris?"}}}},
      {"tools",
       {{{"type", "function"}, {"function", {{"name", "t"}, {"parameters", json::object()}}}}}},
      {"add_generation_prompt", true}};
  EXPECT_EQ(render_file("llama3_1_instruct.jinja", "<|begin_of_text|>", "<|eot_id|>", ctx),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n"
            "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou answer weather "
            "questions."
            "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, "
            "please respond "
            "with a JSON for a function call with its proper arguments that best answers the given "
            "prompt.\n\n"
            "Respond in the format {\"name\": function name, \"parameters\": dictionary of "
            "argument name and its "
            "value}.Do not use variables.\n\n{\n    \"type\": \"function\",\n    \"function\": {\n "
            "       \"name\": "
            "\"t\",\n        \"parameters\": {}\n    }\n}\n\nWeather in Paris?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  // Llama 3.2 takes the date from strftime_now.
  const json plain = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                      {"add_generation_prompt", true}};
  EXPECT_EQ(
      render_file("llama3_2_instruct.jinja", "<|begin_of_text|>", "<|eot_id|>", plain, 1721952000),
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: "
      "December 2023\n"
      "Today Date: 26 Jul "
      "2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplateSynth, GgufTemplateRenders) {
  const auto path = test::models_dir() / "synth" / "synth-phi3-tiny-F16.gguf";
  HEARTH_REQUIRE_FILE(path);
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto source = file->get_string("tokenizer.chat_template");
  ASSERT_TRUE(source.ok()) << source.error().message;
  auto out = render(*source, kConversation, true, "<s>", "</s>");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out,
            "<|system|>\nYou are a helpful "
            "assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n"
            "<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   "
            "<|end|>\n<|user|>\nAnother question"
            "<|end|>\n<|assistant|>\n");
  auto no_gen =
      render(*source, {kConversation.begin(), kConversation.begin() + 2}, false, "<s>", "</s>");
  ASSERT_TRUE(no_gen.ok());
  EXPECT_EQ(*no_gen, "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n");
  // Every synth variant carries the same template, and the detector agrees it is Phi-3 style.
  for (const char* v : {"llama", "llama3", "qwen2", "stablelm"}) {
    auto other = gguf::File::open(test::models_dir() / "synth" /
                                  (std::string("synth-") + v + "-tiny-F16.gguf"));
    ASSERT_TRUE(other.ok());
    auto s = other->get_string("tokenizer.chat_template");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(*s, *source) << v;
  }
  const std::vector<std::string> tokens = {"<unk>",         "<s>",        "</s>",
                                           "<|endoftext|>", "<|system|>", "<|user|>",
                                           "<|assistant|>", "<|end|>"};
  EXPECT_EQ(detect_builtin("llama", "", tokens), "phi3");
  auto builtin = render(std::string(builtin_template("phi3")), kConversation, true, "<s>", "</s>");
  ASSERT_TRUE(builtin.ok());
  EXPECT_EQ(*builtin, *out);
}

TEST(ChatTemplateModel, FromGgufMetadata) {
  const auto path = test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf";
  HEARTH_REQUIRE_FILE(path);
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto t = model_chat_template(*file);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->origin, "tokenizer.chat_template");
  EXPECT_EQ(t->bos_token, "<s>");
  EXPECT_EQ(t->eos_token, "</s>");
  auto forced = model_chat_template(*file, "chatml");
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->origin, "builtin:chatml");
  EXPECT_EQ(forced->source, builtin_template("chatml"));
  auto unknown = model_chat_template(*file, "nonesuch");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("chatml"), std::string::npos);
}

TEST(ChatTemplateModel, WithoutTemplateDetectsBuiltin) {
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::string("llama"));
  w.set("general.name", gguf::Value::string("some model"));
  std::vector<gguf::Value> toks;
  for (const char* t :
       {"<unk>", "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"})
    toks.push_back(gguf::Value::string(t));
  w.set("tokenizer.ggml.tokens", gguf::Value::array(gguf::ValueType::kString, std::move(toks)));
  w.set("tokenizer.ggml.bos_token_id", gguf::Value::u32(1));
  w.set("tokenizer.ggml.eos_token_id", gguf::Value::u32(99));  // out of range: no text, no crash
  const auto path = std::filesystem::temp_directory_path() / "hearth_chat_no_template.gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto t = model_chat_template(*file);
  std::filesystem::remove(path);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->origin, "builtin:llama3");
  EXPECT_EQ(t->bos_token, "<|begin_of_text|>");
  EXPECT_EQ(t->eos_token, "");
}

// The built-ins must reproduce their families' real templates on ordinary conversations.
TEST(ChatTemplateBuiltin, MatchOfficialTemplates) {
  const std::vector<Message> turns(kConversation.begin() + 1, kConversation.end());
  struct Pair {
    const char* builtin;
    const char* official;
    const char* bos;
    const char* eos;
    bool with_system;
  };
  const Pair pairs[] = {
      {"chatml", "chatml_openhermes_2_5.jinja", "<s>", "<|im_end|>", true},
      {"llama2", "llama2_chat.jinja", "<s>", "</s>", true},
      {"llama3", "llama3_instruct.jinja", "<|begin_of_text|>", "<|eot_id|>", true},
      {"zephyr", "tinyllama_chat_v1.jinja", "<s>", "</s>", true},
      {"phi3", "phi3_mini_instruct.jinja", "<s>", "<|endoftext|>", true},
      {"mistral", "mistral_7b_instruct_v0_2.jinja", "<s>", "</s>", false},
  };
  for (const Pair& p : pairs) {
    SCOPED_TRACE(p.builtin);
    const std::span<const Message> msgs =
        p.with_system ? std::span<const Message>(kConversation) : std::span<const Message>(turns);
    auto a = render(std::string(builtin_template(p.builtin)), msgs, true, p.bos, p.eos);
    auto b = render(read_text(templates_dir() / p.official), msgs, true, p.bos, p.eos);
    ASSERT_TRUE(a.ok()) << a.error().message;
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_EQ(*a, *b);
  }
  // Mistral's built-in folds a system prompt into the first instruction instead of failing.
  auto m = render(std::string(builtin_template("mistral")),
                  {kConversation.begin(), kConversation.begin() + 2}, true, "<s>", "</s>");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, "<s>[INST] You are a helpful assistant\n\nHello [/INST]");
  EXPECT_TRUE(builtin_template("nonesuch").empty());
  EXPECT_EQ(builtin_template_names().size(), 6u);
}

TEST(ChatTemplateDetect, ByTokensThenArchitectureAndName) {
  const auto detect = [](std::string_view arch, std::string_view name,
                         std::vector<std::string> tokens) {
    return std::string(detect_builtin(arch, name, tokens));
  };
  EXPECT_EQ(detect("qwen2", "", {"<|im_start|>", "<|im_end|>"}), "chatml");
  EXPECT_EQ(detect("llama", "", {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}),
            "llama3");
  EXPECT_EQ(detect("phi3", "", {"<|user|>", "<|assistant|>", "<|end|>"}), "phi3");
  EXPECT_EQ(detect("stablelm", "", {"<|user|>", "<|assistant|>"}), "zephyr");
  EXPECT_EQ(detect("llama", "", {"[INST]", "[/INST]"}), "mistral");
  EXPECT_EQ(detect("llama", "Mistral 7B Instruct v0.2", {"<s>"}), "mistral");
  EXPECT_EQ(detect("llama", "TinyLlama 1.1B Chat", {"<s>"}), "zephyr");
  EXPECT_EQ(detect("llama", "Llama 2 7B Chat", {"<s>"}), "llama2");
  EXPECT_EQ(detect("qwen2", "", {}), "chatml");
  EXPECT_EQ(detect("phi3", "", {}), "phi3");
  EXPECT_EQ(detect("stablelm", "", {}), "zephyr");
  EXPECT_EQ(detect("gpt2", "", {}), "chatml");
}

TEST(ChatTemplateErrors, BadTemplatesAreErrorsWithPosition) {
  auto r = render("{% for m in messages %}\n{{ m.content | frobnicate }}{% endfor %}",
                  kConversation, true, "", "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
  auto p = render("{% if %}", kConversation, true, "", "");
  ASSERT_FALSE(p.ok());
  auto j = ChatTemplate::create("x", "", "");
  ASSERT_TRUE(j.ok());
  EXPECT_FALSE(j->apply_json(json::array()).ok());
}

}  // namespace
}  // namespace hearth::chat
