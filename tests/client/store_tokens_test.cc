#include "client/person_tokens.h"

#include "client/examples/population.h"
#include "client/generator/fleet_generator.h"
#include "client/privacy_filter.h"
#include "client/store/store_import.h"
#include "common/event_features.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"

namespace tacit {
namespace {

// The store path and the in-memory population path give the same tokens for
// the same person: one definition of events -> tokens.
TEST(PersonTokens, FromTheStoreMatchTheDirectPath) {
  testing::TempDir tmp;
  auto store = EventStore::OpenInDirectory(tmp.path());
  ASSERT_TRUE(store.ok()) << store.status();
  PrivacyFilter filter;
  std::vector<Event> events;
  ASSERT_TRUE(FleetGenerator(8)
                  .Generate(3, 4000,
                            [&](const RawEvent& raw) {
                              if (auto e = filter.Apply(raw)) events.push_back(*e);
                              return absl::OkStatus();
                            })
                  .ok());
  ASSERT_TRUE((*store)->Append(events).ok());

  TokenizationConfig config;
  config.vocab_salt = "round-7";
  auto tokens = LoadPersonTokens(**store, "me", TimeRange{}, config);
  ASSERT_TRUE(tokens.ok()) << tokens.status();

  PopulationSpec spec;
  spec.source = "generator";
  spec.people = 4;
  spec.seed = 8;
  spec.max_events_per_person = 4000;
  spec.vocab_salt = "round-7";
  auto population = LoadPopulation(spec);
  ASSERT_TRUE(population.ok());
  EXPECT_GT(tokens->train.size(), 1000u);
  EXPECT_EQ(tokens->train, (*population)[3].train);
  EXPECT_EQ(tokens->test, (*population)[3].test);

  config.train_fraction = 1.5;
  EXPECT_FALSE(LoadPersonTokens(**store, "me", TimeRange{}, config).ok());
  config.train_fraction = 0.8;
  config.vocab_size = 0;
  EXPECT_FALSE(LoadPersonTokens(**store, "me", TimeRange{}, config).ok());
}

TEST(StoreImport, ShiftsTimesAndKeepsEarlierDataOnAStoppedImport) {
  testing::TempDir tmp;
  auto store = EventStore::OpenInDirectory(tmp.path());
  ASSERT_TRUE(store.ok());
  const std::string good = tmp.Write("User1", "ls\ncd\nmake\n");
  auto latest = LatestEventTime(DataFormat::kSeaCommands, good, {});
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(*latest, 2000);
  StoreImportOptions options;
  options.shift_ms = 1767571200000 - 2000;
  auto report = ImportIntoStore(**store, DataFormat::kSeaCommands, good, options, PrivacyPolicy());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->stored, 3);
  auto events = (*store)->Read(TimeRange{});
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ(events->back().time_ms, 1767571200000);

  const std::string bad = tmp.Write("User2", "vi\n\nls\n");
  auto failed = ImportIntoStore(**store, DataFormat::kSeaCommands, bad, {}, PrivacyPolicy());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ((*store)->Read(TimeRange{})->size(), 3u) << "a stopped import stores nothing";
}

}  // namespace
}  // namespace tacit
