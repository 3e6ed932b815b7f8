#include <random>

#include "common/event.h"
#include "common/event_codec.h"
#include "common/event_features.h"
#include "gtest/gtest.h"
#include "tests/client/test_events.h"

namespace tacit {
namespace {

TEST(EventCodec, RoundTripsRandomEvents) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    Event e = testing::RandomEvent(rng);
    std::string bytes = EncodeEvent(e);
    auto decoded = DecodeEvent(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, e) << "kind " << EventKindName(e.kind);
  }
}

TEST(EventCodec, IsCompact) {
  Event key;
  key.time_ms = 1700000000000;
  key.key_class = KeyClass::kLetter;
  EXPECT_LE(EncodeEvent(key).size(), 9u);
  Event move;
  move.kind = EventKind::kMouseMove;
  move.time_ms = 1700000000000;
  move.x = move.y = 0.5f;
  move.screen_width = 1920;
  move.screen_height = 1080;
  EXPECT_LE(EncodeEvent(move).size(), 16u);
}

TEST(EventCodec, EveryTruncationIsAnErrorNeverACrash) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = EncodeEvent(testing::RandomEvent(rng));
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto decoded = DecodeEvent(absl::string_view(bytes).substr(0, n));
      EXPECT_FALSE(decoded.ok());
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
    }
    EXPECT_FALSE(DecodeEvent(bytes + "x").ok()) << "trailing bytes must be refused";
  }
}

TEST(EventCodec, RandomBytesNeverCrash) {
  std::mt19937_64 rng(13);
  int decoded_ok = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (i % 2 == 0 && !bytes.empty()) bytes[0] = static_cast<char>(kEventSchemaVersion);
    auto decoded = DecodeEvent(bytes);
    if (decoded.ok()) {
      ++decoded_ok;
      EXPECT_EQ(EncodeEvent(*decoded), bytes) << "a valid record re-encodes to itself";
    }
  }
  EXPECT_LT(decoded_ok, 50000);
}

TEST(EventCodec, RefusesOtherSchemaVersions) {
  std::string bytes = EncodeEvent(Event{});
  bytes[0] = static_cast<char>(kEventSchemaVersion + 1);
  auto decoded = DecodeEvent(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("schema version"), std::string::npos);
}

TEST(EventFeatures, NamesEveryKindAndCollapsesMoves) {
  Event e;
  e.key_class = KeyClass::kLetter;
  EXPECT_EQ(EventFeature(e), "key:letter");
  e.kind = EventKind::kShortcut;
  e.chord = "ctrl+c";
  EXPECT_EQ(EventFeature(e), "chord:ctrl+c");
  e.kind = EventKind::kMouseDown;
  e.button = MouseButton::kLeft;
  e.x = 0.6f;
  e.y = 0.9f;
  EXPECT_EQ(EventFeature(e), "click:r3c2");
  e.kind = EventKind::kAppFocus;
  e.app = "code";
  EXPECT_EQ(EventFeature(e), "app:code");
  e.kind = EventKind::kShellCommand;
  e.command = "ls";
  EXPECT_EQ(EventFeature(e), "cmd:ls");
  e.kind = EventKind::kKeyRelease;
  EXPECT_EQ(EventFeature(e), "");

  auto vocab = HashedVocabulary::Create(4096, "salt");
  ASSERT_TRUE(vocab.ok());
  EventTokenizer tokenizer(*vocab);
  std::vector<int32_t> tokens;
  Event move;
  move.kind = EventKind::kMouseMove;
  for (float x : {0.1f, 0.12f, 0.15f, 0.9f, 0.1f}) {
    move.x = x;
    tokenizer.Add(move, &tokens);
  }
  EXPECT_EQ(tokens.size(), 3u) << "moves within one cell give one token";
  EXPECT_EQ(tokens[0], vocab->TokenOf("move:r0c0"));
}

}  // namespace
}  // namespace tacit
