// Wyoming framing: round trips, any split of the bytes, data_length merged over inline data,
// payloads, and hostile streams (huge lengths, endless headers, junk, non-object JSON), each a
// clear error rather than a crash or unbounded buffering.
#include "wyoming/codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hearth::wyoming {
namespace {

using nlohmann::json;

std::vector<Event> decode_all(Decoder& d, std::string_view bytes, size_t chunk) {
  std::vector<Event> out;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    d.feed(bytes.substr(i, chunk));
    while (std::optional<Event> e = d.next()) out.push_back(std::move(*e));
  }
  return out;
}

Event sample(const std::string& type, json data, std::string payload = "") {
  Event e;
  e.type = type;
  e.data = std::move(data);
  e.payload = std::move(payload);
  return e;
}

TEST(WyomingCodec, EncodeWritesHeaderLineThenDataThenPayload) {
  const std::string bytes = encode(sample("transcript", {{"text", "hi"}}, "PCM"));
  const size_t nl = bytes.find('\n');
  ASSERT_NE(nl, std::string::npos);
  const json header = json::parse(bytes.substr(0, nl));
  EXPECT_EQ(header["type"], "transcript");
  EXPECT_TRUE(header.contains("version"));
  const std::string data = json({{"text", "hi"}}).dump();
  EXPECT_EQ(header["data_length"], data.size());
  EXPECT_EQ(header["payload_length"], 3);
  EXPECT_EQ(bytes.substr(nl + 1), data + "PCM");
  // No data, no payload: a bare header line.
  const std::string bare = encode(sample("describe", json::object()));
  EXPECT_EQ(json::parse(bare.substr(0, bare.size() - 1)).count("data_length"), 0u);
  EXPECT_EQ(bare.back(), '\n');
}

TEST(WyomingCodec, RoundTripsUnderEverySplit) {
  std::string stream;
  stream += encode(sample("describe", json::object()));
  stream += encode(sample("transcript", {{"text", "turn on the kitchen light"}, {"language", "en"}}));
  stream += encode(sample("audio-chunk", {{"rate", 16000}}, std::string("\0\x01\xff\n{", 5)));
  stream += encode(sample("ping", {{"text", "ü ✓"}}));
  for (size_t chunk : {1, 2, 3, 7, 64, 100000}) {
    Decoder d;
    std::vector<Event> events = decode_all(d, stream, chunk);
    ASSERT_FALSE(d.failed()) << d.error();
    ASSERT_EQ(events.size(), 4u) << "chunk " << chunk;
    EXPECT_EQ(events[0].type, "describe");
    EXPECT_TRUE(events[0].data.empty());
    EXPECT_EQ(events[1].data["text"], "turn on the kitchen light");
    EXPECT_EQ(events[2].payload, std::string("\0\x01\xff\n{", 5));
    EXPECT_EQ(events[2].data["rate"], 16000);
    EXPECT_EQ(events[3].data["text"], "ü ✓");
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(WyomingCodec, InlineDataAndDataLengthMerge) {
  const std::string extra = R"({"text":"from data","language":"de"})";
  const std::string header = R"({"type":"transcript","data":{"text":"inline","context":{"id":1}},"data_length":)" +
                             std::to_string(extra.size()) + "}\n";
  Decoder d;
  std::vector<Event> events = decode_all(d, header + extra, 5);
  ASSERT_EQ(events.size(), 1u) << d.error();
  EXPECT_EQ(events[0].data["text"], "from data");  // the data bytes win
  EXPECT_EQ(events[0].data["language"], "de");
  EXPECT_EQ(events[0].data["context"]["id"], 1);
  // Inline data only (older peers), CRLF tolerated, null lengths are 0.
  Decoder d2;
  events = decode_all(d2, "{\"type\":\"ping\",\"data\":{\"text\":\"x\"},\"payload_length\":null}\r\n", 100);
  ASSERT_EQ(events.size(), 1u) << d2.error();
  EXPECT_EQ(events[0].data["text"], "x");
}

TEST(WyomingCodec, WaitsForTheWholeDataAndPayload) {
  Decoder d;
  d.feed(R"({"type":"audio-chunk","data_length":2,"payload_length":4})" "\n{}ab");
  EXPECT_FALSE(d.next().has_value());
  EXPECT_FALSE(d.failed());
  d.feed("cd");
  std::optional<Event> e = d.next();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->payload, "abcd");
}

struct Hostile {
  const char* name;
  std::string bytes;
  const char* error_part;
};

TEST(WyomingCodec, HostileStreamsFailCleanly) {
  const std::vector<Hostile> cases = {
      {"huge data_length", R"({"type":"x","data_length":99999999999})" "\n", "data_length"},
      {"huge payload_length", R"({"type":"x","payload_length":18446744073709551615})" "\n", "payload_length"},
      {"negative length", R"({"type":"x","data_length":-1})" "\n", "data_length"},
      {"fractional length", R"({"type":"x","payload_length":1.5})" "\n", "payload_length"},
      {"string length", R"({"type":"x","data_length":"3"})" "\n", "data_length"},
      {"binary junk", std::string("\x00\xff\xfe garbage \x01\n", 15), "not JSON"},
      {"array header", "[1,2,3]\n", "not a JSON object"},
      {"number header", "42\n", "not a JSON object"},
      {"string header", "\"describe\"\n", "not a JSON object"},
      {"no type", R"({"data":{}})" "\n", "type"},
      {"empty type", R"({"type":""})" "\n", "type"},
      {"numeric type", R"({"type":7})" "\n", "type"},
      {"array data", R"({"type":"x","data":[1]})" "\n", "data"},
      {"data not object", R"({"type":"x","data_length":3})" "\n[1]", "data is not a JSON object"},
      {"data junk", std::string(R"({"type":"x","data_length":3})" "\n") + std::string("\xff\0z", 3),
       "data is not a JSON object"},
      {"deep header", "{\"type\":\"x\",\"a\":" + std::string(100, '[') + "\n", "nested"},
      {"empty line", "\n", "not JSON"},
  };
  for (const Hostile& h : cases) {
    Decoder d;
    d.feed(h.bytes);
    EXPECT_FALSE(d.next().has_value()) << h.name;
    EXPECT_TRUE(d.failed()) << h.name;
    EXPECT_NE(d.error().find(h.error_part), std::string::npos) << h.name << ": " << d.error();
    // Broken for good: later bytes, even a valid event, are refused.
    EXPECT_FALSE(d.feed(encode(sample("describe", json::object()))));
    EXPECT_FALSE(d.next().has_value());
  }
}

TEST(WyomingCodec, HeaderWithoutNewlineIsBounded) {
  CodecLimits limits;
  limits.max_header_bytes = 1024;
  Decoder d(limits);
  const std::string block(100, 'a');
  bool ok = true;
  int fed = 0;
  for (; fed < 1000 && ok; ++fed) ok = d.feed(block);  // a peer that never sends '\n'
  EXPECT_FALSE(ok);
  EXPECT_LE(fed, 11);  // refused as soon as the line passes 1024 bytes
  EXPECT_NE(d.error().find("header line longer"), std::string::npos);
  EXPECT_EQ(d.buffered(), 0u);
  // A long line that arrives in one piece with its newline is refused the same way.
  Decoder d2(limits);
  d2.feed("{\"type\":\"x\",\"pad\":\"" + std::string(2000, 'p') + "\"}\n");
  EXPECT_FALSE(d2.next().has_value());
  EXPECT_TRUE(d2.failed());
}

}  // namespace
}  // namespace hearth::wyoming
