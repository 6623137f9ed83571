// Document parsing: validation (NUL, invalid UTF-8 with its offset, BOM, CRLF), plain-text
// paragraphs, each Markdown construct the store relies on, and HTML — entities, nesting, dropped
// elements and malformed markup that must degrade to text rather than fail or hang.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "rag/document.h"

namespace hearth::rag {
namespace {

using Kind = Block::Kind;

std::vector<Block> parse(std::string_view s, Format f) {
  auto r = parse_document(s, f);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : std::vector<Block>{};
}

std::string dump(const std::vector<Block>& blocks) {
  std::string out;
  for (const Block& b : blocks) {
    switch (b.kind) {
      case Kind::kHeading: out += "H" + std::to_string(b.level); break;
      case Kind::kParagraph: out += "P"; break;
      case Kind::kListItem: out += "L"; break;
      case Kind::kCode: out += "C"; break;
      case Kind::kTableRow: out += "T"; break;
    }
    out += ":" + b.text + "\n";
  }
  return out;
}

std::string md(std::string_view s) { return dump(parse(s, Format::kMarkdown)); }
std::string html(std::string_view s) { return dump(parse(s, Format::kHtml)); }

TEST(DocumentFormat, FromPathAndName) {
  EXPECT_EQ(format_from_path("a/b/README.md"), Format::kMarkdown);
  EXPECT_EQ(format_from_path("x.MARKDOWN"), Format::kMarkdown);
  EXPECT_EQ(format_from_path("x.mdown"), Format::kMarkdown);
  EXPECT_EQ(format_from_path("index.HTM"), Format::kHtml);
  EXPECT_EQ(format_from_path("page.xhtml"), Format::kHtml);
  EXPECT_EQ(format_from_path("notes.txt"), Format::kText);
  EXPECT_EQ(format_from_path("Makefile"), Format::kText);
  EXPECT_STREQ(format_name(Format::kText), "text");
  EXPECT_STREQ(format_name(Format::kMarkdown), "markdown");
  EXPECT_STREQ(format_name(Format::kHtml), "html");
}

TEST(DocumentValidate, InvalidUtf8NamesOffset) {
  std::string s = "hello w\xC3\xB6rld ";  // valid ö
  s += "\xC3\x28";                         // bad continuation at offset 13
  auto r = parse_document(s, Format::kText);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("invalid UTF-8 at byte 13"), std::string::npos) << r.error().message;
  for (std::string bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF"}) {
    auto e = parse_document("ab" + bad, Format::kMarkdown);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message.find("at byte 2"), std::string::npos) << e.error().message;
  }
}

TEST(DocumentValidate, NulByteIsNotText) {
  auto r = parse_document(std::string_view("abc\0def", 7), Format::kHtml);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("NUL byte at byte 3"), std::string::npos);
}

TEST(DocumentValidate, BomAndCrlf) {
  EXPECT_EQ(dump(parse("\xEF\xBB\xBFone\r\ntwo\r\n\r\nthree\rfour", Format::kText)),
            "P:one two\nP:three four\n");
  EXPECT_EQ(md("\xEF\xBB\xBF# Title\r\n\r\nBody\r\n"), "H1:Title\nP:Body\n");
  EXPECT_EQ(dump(parse("", Format::kText)), "");
  EXPECT_EQ(dump(parse(" \n\t\n", Format::kMarkdown)), "");
}

TEST(DocumentText, ParagraphsCollapseWhitespace) {
  EXPECT_EQ(dump(parse("  a\tb   c\n d\n\n\n  \ne  f\n", Format::kText)), "P:a b c d\nP:e f\n");
  // Markup in a .txt is text.
  EXPECT_EQ(dump(parse("# not a heading\n<b>x</b>", Format::kText)), "P:# not a heading <b>x</b>\n");
}

TEST(DocumentMarkdown, AtxAndSetextHeadings) {
  EXPECT_EQ(md("# One #\n## Two ##   \n###### Six\n####### seven\n#no\n"),
            "H1:One\nH2:Two\nH6:Six\nP:####### seven #no\n");
  EXPECT_EQ(md("Title\n=====\n\nSub title\n---\ntext"), "H1:Title\nH2:Sub title\nP:text\n");
  EXPECT_EQ(md("# C# language\n"), "H1:C# language\n");
  EXPECT_EQ(md("para\n\n---\n\nafter"), "P:para\nP:after\n");  // a thematic break, not a heading
}

TEST(DocumentMarkdown, FencedCodeIsVerbatim) {
  EXPECT_EQ(md("text\n```cpp\nint  x = 1;\n\n  if (x)  {}\n```\nafter"),
            "P:text\nC:int  x = 1;\n\n  if (x)  {}\nP:after\n");
  EXPECT_EQ(md("~~~~\n```\nnot closed by backticks\n~~~~\n"), "C:```\nnot closed by backticks\n");
  EXPECT_EQ(md("```\nunclosed **fence** [a](b)\n"), "C:unclosed **fence** [a](b)\n");
  EXPECT_EQ(md("    indented  code\n    more\n\npara"), "C:indented  code\nmore\nP:para\n");
}

TEST(DocumentMarkdown, ListItems) {
  EXPECT_EQ(md("- one\n* two\n  continued\n+ three\n1. four\n2) five\n10. ten"),
            "L:one\nL:two continued\nL:three\nL:four\nL:five\nL:ten\n");
  EXPECT_EQ(md("- item\n\n    still the item\n"), "L:item\nP:still the item\n");
  EXPECT_EQ(md("-not a list\n2.5 million"), "P:-not a list 2.5 million\n");
}

TEST(DocumentMarkdown, Tables) {
  EXPECT_EQ(md("| Name | Value |\n|:-----|------:|\n| a | **1** |\n| b |  |\n"),
            "T:Name | Value\nT:a | 1\nT:b | \n");
  EXPECT_EQ(md("x | y\n--|--\n1 | 2\n\nafter"), "T:x | y\nT:1 | 2\nP:after\n");
  EXPECT_EQ(md("| a \\| b | c |"), "T:a | b | c\n");
}

TEST(DocumentMarkdown, BlockquotesAndFrontMatter) {
  EXPECT_EQ(md("> quoted\n> line\n>\n> > nested\n\nafter"), "P:quoted line\nP:nested\nP:after\n");
  EXPECT_EQ(md("> # heading in a quote\n> - item"), "P:heading in a quote\nL:item\n");
  EXPECT_EQ(md("---\ntitle: x\ntags: [a]\n---\n# Real\n"), "H1:Real\n");
  EXPECT_EQ(md("---\nnot closed\n"), "P:not closed\n");
}

TEST(DocumentMarkdown, InlineMarkup) {
  EXPECT_EQ(md("See [the docs](https://x.y/a_(b)) and ![a cat](cat.png \"t\") now."),
            "P:See the docs and a cat now.\n");
  EXPECT_EQ(md("**bold** __strong__ *em* _em_ ~~gone~~ `a **b**` ``x ` y``"),
            "P:bold strong em em gone a **b** x ` y\n");
  EXPECT_EQ(md("2 * 3 * 4 and snake_case_name and ~5 min"),
            "P:2 * 3 * 4 and snake_case_name and ~5 min\n");
  EXPECT_EQ(md("a <span class=\"x\">tag</span> <!-- gone --> <https://x.y> &amp; &copy;"),
            "P:a tag https://x.y & \xC2\xA9\n");
  EXPECT_EQ(md("\\*literal\\* [ref][1] [plain] a < b"), "P:*literal* ref [plain] a < b\n");
  EXPECT_EQ(md("[`code` link](u)"), "P:code link\n");
}

TEST(DocumentMarkdown, PathologicalInputIsFast) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string s(200000, '[');
  s += std::string(100000, '`') + std::string(100000, '<') + "\n";
  for (int i = 0; i < 20000; ++i) s += "` `` ``` [x](";
  s += "\n" + std::string(50000, '>') + " deep";
  auto r = parse_document(s, Format::kMarkdown);
  EXPECT_TRUE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(DocumentHtml, BlocksAndNesting) {
  EXPECT_EQ(html("<html><head><title>Page</title><style>p{}</style></head><body>"
                 "<h2>Intro</h2><p>Hello <b>big</b> world</p>"
                 "<ul><li>one<li>two <ul><li>inner</li></ul> tail</li></ul>"
                 "<div>div text<section>sec</section>after</div></body></html>"),
            "H1:Page\nH2:Intro\nP:Hello big world\nL:one\nL:two\nL:inner\nL:tail\n"
            "P:div text\nP:sec\nP:after\n");
  EXPECT_EQ(html("<title>T</title><h1>Real</h1>"), "H1:Real\n");  // title only without an h1
  EXPECT_EQ(html("<p>line one<br>line two<br/>three</p>"), "P:line one\nline two\nthree\n");
  EXPECT_EQ(html("<dl><dt>term<dd>def</dl><figure><figcaption>cap</figcaption></figure>"),
            "P:term\nP:def\nP:cap\n");
  EXPECT_EQ(html("<nav>Home</nav><main>m</main><footer>foot</footer>"), "P:Home\nP:m\nP:foot\n");
}

TEST(DocumentHtml, PreAndTables) {
  EXPECT_EQ(html("<pre>\n  int x;\n  <span>y</span> &lt; 2;\n</pre><p>after</p>"),
            "C:  int x;\n  y < 2;\nP:after\n");
  EXPECT_EQ(html("<table><caption>Cap</caption><tr><th>A</th><th>B</th></tr>"
                 "<tr><td>1</td><td><p>two</p> words</td><td></td></tr><tr><td>x</table>"),
            "P:Cap\nT:A | B\nT:1 | two words\nT:x\n");
}

TEST(DocumentHtml, DroppedContent) {
  EXPECT_EQ(html("<p>a<script>var s = '</p><p>'; if (a<b) {}</script>b</p>"
                 "<noscript><p>enable js</p></noscript><template>t</template>"
                 "<svg><svg><text>x</text></svg><title>s</title></svg><!-- c --><![CDATA[d]]>"
                 "<!DOCTYPE html><?xml x?><p>c</p>"),
            "P:ab\nP:c\n");
  EXPECT_EQ(html("<SCRIPT type=x>alert(1)</SCRIPT ><P>Upper</P>"), "P:Upper\n");
}

TEST(DocumentHtml, Entities) {
  EXPECT_EQ(html("<p>&amp; &lt;&gt; &quot;&apos; &copy;&reg;&trade; &hellip;&mdash;&ndash; "
                 "&lsquo;&rsquo;&ldquo;&rdquo; &deg;&euro;&pound;&times;&middot;&bull; "
                 "&eacute;&Uuml;&szlig;&yuml;</p>"),
            "P:& <> \"' \xC2\xA9\xC2\xAE\xE2\x84\xA2 \xE2\x80\xA6\xE2\x80\x94\xE2\x80\x93 "
            "\xE2\x80\x98\xE2\x80\x99\xE2\x80\x9C\xE2\x80\x9D \xC2\xB0\xE2\x82\xAC\xC2\xA3\xC3\x97"
            "\xC2\xB7\xE2\x80\xA2 \xC3\xA9\xC3\x9C\xC3\x9F\xC3\xBF\n");
  EXPECT_EQ(html("<p>&#65;&#x42;&#X63;&#169 &#0;&#xD800;&#x110000;&#99999999999;&#150;</p>"),
            "P:ABc\xC2\xA9 \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xE2\x80\x93\n");
  EXPECT_EQ(html("<p>a&nbsp;&nbsp;b &unknown; &amp &#; & x</p>"), "P:a b &unknown; &amp &#; & x\n");
}

TEST(DocumentHtml, MalformedMarkupDegradesToText) {
  EXPECT_EQ(html("a < b and c<d"), "P:a < b and c<d\n");
  EXPECT_EQ(html("<p title=\"x > y\">quoted gt</p>"), "P:quoted gt\n");
  EXPECT_EQ(html("<p>open <b>bold <i>never closed"), "P:open bold never closed\n");
  EXPECT_EQ(html("</div></p>stray ends<p"), "P:stray ends<p\n");
  EXPECT_EQ(html("<a href=\"unclosed>link text</a> rest"), "P:link text rest\n");
  EXPECT_EQ(html("<!-- never closed <p>hidden"), "");
  const auto t0 = std::chrono::steady_clock::now();
  std::string s;
  for (int i = 0; i < 50000; ++i) s += "<div><a x=\"";
  s += std::string(100000, '<') + "end";
  auto r = parse_document(s, Format::kHtml);
  ASSERT_TRUE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace hearth::rag
