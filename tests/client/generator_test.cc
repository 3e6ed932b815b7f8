#include "client/generator/fleet_generator.h"

#include <cmath>
#include <map>

#include "client/examples/population.h"
#include "client/privacy_filter.h"
#include "common/event_codec.h"
#include "common/event_features.h"
#include "gtest/gtest.h"

namespace tacit {
namespace {

std::string Trace(uint64_t seed, int index, int64_t n) {
  std::string bytes;
  PrivacyFilter filter;
  EXPECT_TRUE(FleetGenerator(seed)
                  .Generate(index, n,
                            [&](const RawEvent& raw) {
                              if (auto e = filter.Apply(raw)) AppendEncodedEvent(*e, &bytes);
                              return absl::OkStatus();
                            })
                  .ok());
  return bytes;
}

TEST(FleetGenerator, DeterministicForASeed) {
  for (int index : {0, 1, 7, 123}) {
    EXPECT_EQ(Trace(42, index, 3000), Trace(42, index, 3000));
    EXPECT_NE(Trace(42, index, 3000), Trace(43, index, 3000));
  }
  EXPECT_NE(Trace(42, 0, 3000), Trace(42, 5, 3000)) << "two developers differ";
  // A shorter budget is a prefix of a longer one: streaming, not batch.
  std::string longer = Trace(5, 3, 4000);
  std::string shorter = Trace(5, 3, 1000);
  EXPECT_EQ(longer.substr(0, shorter.size()), shorter);
}

TEST(FleetGenerator, EmitsExactlyTheBudgetInTimeOrder) {
  int64_t n = 0, last = 0;
  ASSERT_TRUE(FleetGenerator(1)
                  .Generate(4, 7777,
                            [&](const RawEvent& e) {
                              EXPECT_GE(e.time_ms, last);
                              last = e.time_ms;
                              ++n;
                              return absl::OkStatus();
                            })
                  .ok());
  EXPECT_EQ(n, 7777);
  EXPECT_FALSE(
      FleetGenerator(1).Generate(-1, 10, [](const RawEvent&) { return absl::OkStatus(); }).ok());
}

struct Profile {
  std::map<std::string, double> features;  // share of each feature string
  double events_per_minute = 0;
  double app_switches_per_hour = 0;
};

Profile Measure(uint64_t seed, int index) {
  Profile p;
  PrivacyFilter filter;
  int64_t total = 0, switches = 0, first = -1, last = 0, active_ms = 0, prev = -1;
  EXPECT_TRUE(FleetGenerator(seed)
                  .Generate(index, 20000,
                            [&](const RawEvent& raw) {
                              auto e = filter.Apply(raw);
                              if (!e) return absl::OkStatus();
                              if (first < 0) first = e->time_ms;
                              if (prev >= 0 && e->time_ms - prev < 5 * 60 * 1000) {
                                active_ms += e->time_ms - prev;
                              }
                              prev = last = e->time_ms;
                              std::string f = EventFeature(*e);
                              if (e->kind == EventKind::kAppFocus) ++switches;
                              if (!f.empty()) {
                                p.features[f] += 1;
                                ++total;
                              }
                              return absl::OkStatus();
                            })
                  .ok());
  for (auto& [f, c] : p.features) c /= static_cast<double>(total);
  p.events_per_minute = 20000.0 / (static_cast<double>(active_ms) / 60000.0);
  p.app_switches_per_hour =
      static_cast<double>(switches) / (static_cast<double>(active_ms) / 3.6e6);
  return p;
}

double JensenShannon(const std::map<std::string, double>& a,
                     const std::map<std::string, double>& b) {
  auto kl = [](const std::map<std::string, double>& p, const std::map<std::string, double>& q) {
    double d = 0;
    for (const auto& [k, pv] : p) {
      double qv = q.count(k) ? q.at(k) : 0.0;
      double m = 0.5 * (pv + qv);
      if (pv > 0) d += pv * std::log2(pv / m);
    }
    return d;
  };
  return 0.5 * kl(a, b) + 0.5 * kl(b, a);
}

TEST(FleetGenerator, PersonasDifferMeasurablyAndPeopleVaryWithinOne) {
  std::vector<Profile> people;
  for (int i = 0; i < 15; ++i) people.push_back(Measure(9, i));  // 3 of each persona
  double within = 0, across = 0;
  int nw = 0, na = 0;
  for (int i = 0; i < 15; ++i) {
    for (int j = i + 1; j < 15; ++j) {
      double d = JensenShannon(people[i].features, people[j].features);
      if (i % kPersonaCount == j % kPersonaCount) {
        within += d;
        ++nw;
        EXPECT_GT(d, 0.0005) << "people of one persona still differ";
      } else {
        across += d;
        ++na;
      }
    }
  }
  within /= nw;
  across /= na;
  EXPECT_GT(across, 2 * within) << "within " << within << " across " << across;
  // Only developers run shell commands; designers drag most.
  double dev_cmd = 0, other_cmd = 0;
  for (int i = 0; i < 15; ++i) {
    double cmd = 0;
    for (const auto& [f, share] : people[i].features) {
      if (f.rfind("cmd:", 0) == 0) cmd += share;
    }
    (i % kPersonaCount == 0 ? dev_cmd : other_cmd) += cmd;
  }
  EXPECT_GT(dev_cmd, 0.01);
  EXPECT_EQ(other_cmd, 0.0);
  for (const Profile& p : people) {
    EXPECT_GT(p.events_per_minute, 20);
    EXPECT_LT(p.events_per_minute, 600);
    EXPECT_GT(p.app_switches_per_hour, 5);
    EXPECT_LT(p.app_switches_per_hour, 400);
  }
}

TEST(FleetGenerator, FeedsLoadPopulation) {
  PopulationSpec spec;
  spec.source = "generator";
  spec.people = 6;
  spec.seed = 3;
  spec.max_events_per_person = 2000;
  auto people = LoadPopulation(spec);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 6u);
  EXPECT_EQ((*people)[1].person_id, "p0001-analyst");
  for (const PersonTokens& p : *people) {
    EXPECT_GT(p.train.size(), 300u);
    EXPECT_NEAR(static_cast<double>(p.train.size()) / (p.train.size() + p.test.size()), 0.8, 0.01);
  }
  auto again = LoadPopulation(spec);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[4].train, (*people)[4].train);
  spec.people = 0;
  EXPECT_FALSE(LoadPopulation(spec).ok());
}

}  // namespace
}  // namespace tacit
