// The Jinja subset, feature by feature; expected strings are what Jinja2 3.1 renders with
// HF's settings (trim_blocks, lstrip_blocks).
#include "chat/jinja.h"

#include <gtest/gtest.h>

#include "chat/chat_template.h"

namespace hearth::jinja {
namespace {

using json = nlohmann::ordered_json;

std::string R(const std::string& src, const json& ctx = json::object()) {
  auto t = Template::parse(src);
  if (!t) return "PARSE ERROR: " + t.error().message;
  auto out = t->render(chat::value_from_json(ctx));
  if (!out) return "ERROR: " + out.error().message;
  return *out;
}

std::string Err(const std::string& src, const json& ctx = json::object(), RenderOptions opt = {}) {
  auto t = Template::parse(src);
  if (!t) return t.error().message;
  auto out = t->render(chat::value_from_json(ctx), opt);
  if (out) return "OK: " + *out;
  return out.error().message;
}

TEST(Jinja, TextAndExpressions) {
  EXPECT_EQ(R("hello"), "hello");
  EXPECT_EQ(R("{{ 1 + 2 * 3 }}"), "7");
  EXPECT_EQ(R("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }}"),
            "3 -4 1 2 1024");
  EXPECT_EQ(R("{{ 1 / 2 }} {{ 4 / 2 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }}"),
            "0.5 2.0 0.30000000000000004 1e+20 1.5e-07");
  EXPECT_EQ(R("{{ 'a' ~ 1 ~ none }}{{ 'b' + 'c' }}"), "a1Nonebc");
  EXPECT_EQ(R("{{ x }}|{{ true }}|{{ none }}|{{ [1, 'a', none] }}|{{ {'k': 'v', 'n': 2} }}"),
            "|True|None|[1, 'a', None]|{'k': 'v', 'n': 2}");
  EXPECT_EQ(R("{{ 'yes' if 1 > 0 else 'no' }}{{ 'x' if false }}"), "yes");
  EXPECT_EQ(R("{{ not 1 == 2 }} {{ 1 < 2 and 2 < 1 }} {{ 0 or 'z' }}"), "True False z");
  EXPECT_EQ(R("{{ 'ab' in 'cabd' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}"),
            "True True True True");
  EXPECT_EQ(R("{{ \"it's\" }} {{ 'a\\nb' }}"), "it's a\nb");
}

TEST(Jinja, IndexingAndSlicing) {
  json ctx = {{"xs", {1, 2, 3, 4}}, {"s", "héllo"}, {"d", {{"a", {{"b", 5}}}}}};
  EXPECT_EQ(R("{{ xs[0] }}{{ xs[-1] }}{{ xs[1:3] }}{{ xs[::-1] }}{{ xs[:-1] }}{{ xs[::2] }}", ctx),
            "14[2, 3][4, 3, 2, 1][1, 2, 3][1, 3]");
  EXPECT_EQ(R("{{ s[::-1] }} {{ s[1] }} {{ s[1:3] }} {{ s | length }}", ctx), "olléh é él 5");
  EXPECT_EQ(R("{{ d.a.b }}{{ d['a']['b'] }}{{ d.missing is defined }}{{ xs[10] is defined }}", ctx),
            "55FalseFalse");
}

TEST(Jinja, StringMethods) {
  EXPECT_EQ(R("[{{ '  a b  '.strip() }}][{{ 'xxaxx'.strip('x') }}][{{ ' a '.lstrip() }}][{{ ' a "
              "'.rstrip() }}]"),
            "[a b][a][a ][ a]");
  EXPECT_EQ(R("{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }}"),
            "['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c']");
  EXPECT_EQ(R("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }}"), "True True");
  EXPECT_EQ(R("{{ 'hello world'.title() }} {{ 'aBc'.upper() }} {{ 'aBc'.lower() }} {{ 'hi "
              "there'.capitalize() }}"),
            "Hello World ABC abc Hi there");
  EXPECT_EQ(R("{{ 'a-b-c'.replace('-', '+') }} {{ '{} and {}'.format(1, 'x') }} {{ ', '.join(['a', "
              "'b']) }}"),
            "a+b+c 1 and x a, b");
}

TEST(Jinja, DictMethods) {
  json ctx = {{"d", {{"z", 1}, {"a", 2}}}};
  EXPECT_EQ(R("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", ctx), "z=1;a=2;");
  EXPECT_EQ(R("{{ d.keys() | list }} {{ d.values() | list }} {{ d.get('a') }} {{ d.get('q', 7) }} "
              "{{ d.get('q') }}",
              ctx),
            "['z', 'a'] [1, 2] 2 7 None");
  EXPECT_EQ(R("{% for k in d %}{{ k }}{% endfor %}", ctx), "za");
}

TEST(Jinja, Filters) {
  json ctx = {{"ms",
               {{{"role", "user"}, {"c", "a"}},
                {{"role", "tool"}, {"c", "b"}},
                {{"role", "user"}, {"c", "c"}}}}};
  EXPECT_EQ(
      R("{{ '  x  ' | trim }}|{{ [1,2,3] | length }}|{{ 'abc' | upper }}|{{ [1,2] | join(', ') }}"),
      "x|3|ABC|1, 2");
  EXPECT_EQ(R("{{ x | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}"),
            "d||d");
  EXPECT_EQ(R("{{ [4,5] | first }}{{ [4,5] | last }}{{ 'ab' | list }}{{ 3 | string }}{{ '42' | int "
              "+ 1 }}"),
            "45['a', 'b']343");
  EXPECT_EQ(R("{{ 'aXbX' | replace('X', '-') }}{{ 'hello' | capitalize }}{{ '<b>' | safe }}"),
            "a-b-Hello<b>");
  EXPECT_EQ(R("{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='c') | join }}", ctx),
            "ac");
  EXPECT_EQ(R("{{ ms | rejectattr('role', 'eq', 'user') | map(attribute='c') | list }}", ctx),
            "['b']");
  EXPECT_EQ(R("{{ ms | map(attribute='role') | unique | list }}", ctx), "['user', 'tool']");
  EXPECT_EQ(R("{{ ['a', 'b'] | map('upper') | join }}"), "AB");
  EXPECT_EQ(R("{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}"),
            "a\n  b\n\n  c|  a\n  b");
  EXPECT_EQ(R("{{ [3,1,2] | sort | list }}{{ [1,2] | reverse | list }}{{ [1,2,3] | sum }}"),
            "[1, 2, 3][2, 1]6");
}

TEST(Jinja, ToJsonMatchesPythonJsonDumps) {
  json ctx = {{"t",
               {{"name", "f"},
                {"params", {{"x", {1, 2.5, true, nullptr}}, {"s", "é\"\n"}}},
                {"e", json::object()}}}};
  EXPECT_EQ(R("{{ t | tojson }}", ctx),
            "{\"name\": \"f\", \"params\": {\"x\": [1, 2.5, true, null], \"s\": \"é\\\"\\n\"}, "
            "\"e\": {}}");
  EXPECT_EQ(R("{{ t.params.x | tojson(indent=2) }}", ctx), "[\n  1,\n  2.5,\n  true,\n  null\n]");
  EXPECT_EQ(R("{{ {'a': [1], 'b': {}} | tojson(indent=4) }}"),
            "{\n    \"a\": [\n        1\n    ],\n    \"b\": {}\n}");
}

TEST(Jinja, Tests) {
  json ctx = {{"s", "x"}, {"n", nullptr}, {"d", json::object()}, {"l", json::array()}, {"i", 3}};
  EXPECT_EQ(
      R("{{ s is defined }}{{ q is undefined }}{{ n is none }}{{ s is string }}{{ i is number }}",
        ctx),
      "TrueTrueTrueTrueTrue");
  EXPECT_EQ(
      R("{{ d is mapping }}{{ l is iterable }}{{ l is sequence }}{{ s is not mapping }}", ctx),
      "TrueTrueTrueTrue");
  EXPECT_EQ(R("{{ i is eq 3 }}{{ i is equalto(4) }}{{ i is odd }}{{ i is divisibleby 3 }}{{ n is "
              "not none }}",
              ctx),
            "TrueFalseTrueTrueFalse");
}

TEST(Jinja, ForLoops) {
  json ctx = {{"xs", {"a", "b", "c"}}};
  EXPECT_EQ(
      R("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ x }}{% if loop.first %}F{% endif %}"
        "{% if loop.last %}L{% endif %}{{ loop.length }};{% endfor %}",
        ctx),
      "10aF3;21b3;32cL3;");
  EXPECT_EQ(R("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(R("{% for x in xs if x != 'b' %}{{ loop.index }}{{ x }}{% endfor %}", ctx), "1a2c");
  EXPECT_EQ(R("{% for x in xs %}{% if x == 'b' %}{% continue %}{% endif %}{{ x }}{% if x == 'c' "
              "%}{% break %}{% endif %}{% endfor %}",
              ctx),
            "ac");
  EXPECT_EQ(R("{% for i in range(3) %}{{ i }}{% endfor %}{% for i in range(1, 7, 2) %}{{ i }}{% "
              "endfor %}"),
            "012135");
  EXPECT_EQ(R("{% for x in xs %}{{ loop.cycle('o', 'e') }}{% endfor %}", ctx), "oeo");
}

TEST(Jinja, ScopingAndNamespace) {
  EXPECT_EQ(R("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"), "21");
  EXPECT_EQ(
      R("{% set ns = namespace(found=false, n=0) %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}"
        "{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}{{ ns.n }}"),
      "True6");
  EXPECT_EQ(R("{% if true %}{% set y = 'in-if' %}{% endif %}{{ y }}"), "in-if");
  EXPECT_EQ(R("{% set a, b = [1, 2] %}{{ a }}{{ b }}"), "12");
  EXPECT_EQ(R("{% set block %}x{{ 1 + 1 }}{% endset %}[{{ block }}]"), "[x2]");
}

TEST(Jinja, Macros) {
  EXPECT_EQ(R("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
              "{{ greet('a') }} {{ greet('b', punct='?') }}"),
            "Hi a! Hi b?");
  EXPECT_EQ(R("{% set g = 'G' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}"), "G");
}

TEST(Jinja, UndefinedIsEmptyContainer) {
  // Granite and Llama Guard test membership in variables the caller may not pass.
  EXPECT_EQ(R("{{ 'a' in controls }}{{ 'a' not in nothing }}{% for x in nothing %}x{% endfor %}"),
            "FalseTrue");
}

TEST(Jinja, TrailingNewlineOfSourceDropped) {
  EXPECT_EQ(R("x\n"), "x");  // Jinja2's keep_trailing_newline=False
  EXPECT_EQ(R("x\n\n"), "x\n");
  EXPECT_EQ(R("{% if true %}y{% endif %}\n\n"), "y");  // trim_blocks then the final newline
}

TEST(Jinja, IfElifElse) {
  const std::string t = "{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}";
  EXPECT_EQ(R(t, {{"x", 1}}), "one");
  EXPECT_EQ(R(t, {{"x", 2}}), "two");
  EXPECT_EQ(R(t, {{"x", 5}}), "many");
}

TEST(Jinja, WhitespaceControl) {
  EXPECT_EQ(R("a  {{- 'b' -}}  c"), "abc");
  EXPECT_EQ(R("a\n  {%- if true -%}\n  b\n  {%- endif -%}\n  c"), "abc");
  // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation before it.
  EXPECT_EQ(R("{% if true %}\nx\n{% endif %}\ny"), "x\ny");
  EXPECT_EQ(R("  {% if true %}\n  x\n  {% endif %}\n"), "  x\n");
  // Neither applies to expression tags.
  EXPECT_EQ(R("  {{ 'x' }}\ny"), "  x\ny");
  EXPECT_EQ(R("a {% if true %}b{% endif %}"), "a b");  // lstrip only when the tag starts its line
  EXPECT_EQ(R("{# comment #}\nx{#- c -#}  y"), "xy");
  EXPECT_EQ(R("  {%+ if true %}x{% endif %}"), "  x");
  EXPECT_EQ(R("{% raw %}{{ not evaluated }}{% endraw %}"), "{{ not evaluated }}");
}

TEST(Jinja, GlobalsAndTime) {
  auto t = Template::parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d') }}");
  ASSERT_TRUE(t.ok());
  RenderOptions opt;
  opt.now_unix = 1721952000;  // 2024-07-26 00:00:00 UTC
  auto out = t->render(Value::make_dict(), opt);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "26 Jul 2024|2024-07-26");
}

TEST(JinjaErrors, RaiseExceptionCarriesMessageAndPosition) {
  const std::string e = Err("line1\n  {{ raise_exception('roles must alternate') }}");
  EXPECT_NE(e.find("roles must alternate"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
}

TEST(JinjaErrors, SyntaxErrorsArePositioned) {
  EXPECT_NE(Err("{% if x %}no end").find("not closed"), std::string::npos);
  EXPECT_NE(Err("ab\n{{ 1 + }}").find("line 2"), std::string::npos);
  EXPECT_NE(Err("{{ 'unterminated }}").find("unterminated"), std::string::npos);
  EXPECT_NE(Err("{% frobnicate %}").find("frobnicate"), std::string::npos);
  EXPECT_NE(Err("{{ x | nosuchfilter }}").find("nosuchfilter"), std::string::npos);
  EXPECT_NE(Err("{% endfor %}").find("endfor"), std::string::npos);
  EXPECT_NE(Err("{{ (1 }}").find("line 1"), std::string::npos);
}

TEST(JinjaErrors, RuntimeErrors) {
  EXPECT_NE(Err("{{ x.y }}").find("undefined"), std::string::npos);
  EXPECT_NE(Err("{{ 1 // 0 }}").find("zero"), std::string::npos);
  EXPECT_NE(Err("{{ 'a' + 1 }}").find("unsupported"), std::string::npos);
  EXPECT_NE(Err("{{ 9223372036854775807 + 1 }}").find("overflow"), std::string::npos);
  EXPECT_NE(Err("{% set x = 1 %}{% set x.y = 2 %}").find("namespace"), std::string::npos);
  EXPECT_NE(Err("{{ undefined_function() }}").find("undefined"), std::string::npos);
}

TEST(JinjaHostile, DeepNestingIsAnError) {
  std::string deep(5000, '(');
  deep = "{{ " + deep + "1" + std::string(5000, ')') + " }}";
  EXPECT_NE(Err(deep).find("deep"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 3000; ++i) ifs += "{% if true %}";
  EXPECT_NE(Err(ifs).find("deep"), std::string::npos);
  std::string nots = "{{ " + std::string(1, ' ');
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_NE(Err(nots + "1 }}").find("deep"), std::string::npos);
}

TEST(JinjaHostile, RecursionAndWorkAreBounded) {
  EXPECT_NE(Err("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("deep"),
            std::string::npos);
  EXPECT_NE(
      Err("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}")
          .find("limit"),
      std::string::npos);
  RenderOptions small;
  small.limits.max_output_bytes = 1000;
  EXPECT_NE(
      Err("{% for i in range(10000) %}xxxxxxxx{% endfor %}", json::object(), small).find("exceeds"),
      std::string::npos);
  EXPECT_NE(Err("{{ 'x' * 100000000000 }}").find("too large"), std::string::npos);
  EXPECT_NE(Err("{{ range(100000000000) }}").find("too large"), std::string::npos);
  // Doubling a string 64 times.
  std::string dbl = "{% set s = 'ab' %}";
  for (int i = 0; i < 64; ++i) dbl += "{% set s = s + s %}";
  EXPECT_NE(Err(dbl).find("too long"), std::string::npos);
}

}  // namespace
}  // namespace hearth::jinja
