#pragma once

// The coordinator's Prometheus metrics: counters, gauges and histograms, each
// a family with fixed label names, rendered in the text exposition format
// 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
// Storage and rendering are prometheus-cpp's core (Debian prometheus-cpp-dev:
// Registry, Family, Counter/Gauge/Histogram, TextSerializer); this header adds
// what the coordinator relies on and keeps prometheus-cpp's headers out of
// the rest of the tree:
//   - registration returns a Status (prometheus-cpp throws) and checks names,
//     label names and buckets first;
//   - a family's label names are fixed; With() takes only the values;
//   - a counter or gauge without labels is exported (as 0) from registration,
//     and every child from its first With(), incremented or not;
//   - output is stable: families in registration order, children sorted by
//     label values.
// Recording is thread-safe; counters and gauges are lock-free. Families and
// children are created once and then reused by pointer or reference.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace tacit::coordinator {

template <typename M>
class Family;

class Counter {
 public:
  using Impl = prometheus::Counter;
  void Increment(double by = 1.0);  // by must be >= 0; negative is ignored
  double value() const;

 private:
  template <typename>
  friend class Family;
  explicit Counter(Impl* impl) : impl_(impl) {}
  Impl* impl_;
};

class Gauge {
 public:
  using Impl = prometheus::Gauge;
  void Set(double value);
  void Add(double delta);
  double value() const;

 private:
  template <typename>
  friend class Family;
  explicit Gauge(Impl* impl) : impl_(impl) {}
  Impl* impl_;
};

class Histogram {
 public:
  using Impl = prometheus::Histogram;
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;  // without +Inf
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

 private:
  template <typename>
  friend class Family;
  explicit Histogram(Impl* impl) : impl_(impl) {}
  Impl* impl_;
};

enum class MetricType { kCounter, kGauge, kHistogram };

// One metric name with its label names; children per label value tuple.
template <typename M>
class Family {
 public:
  ~Family();
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // Returns the child for these label values (created on first use, and
  // exported from then on). The number of values must match the family's
  // label names; a mismatch is a programming error and returns a shared
  // "invalid" child that is never rendered, rather than crash a serving
  // coordinator.
  M& With(const std::vector<std::string>& label_values);

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  friend class MetricsRegistry;
  Family(std::string name, std::vector<std::string> label_names, std::vector<double> buckets,
         prometheus::Family<typename M::Impl>* family);
  std::unique_ptr<typename M::Impl> NewDetached() const;

  const std::string name_;
  const std::vector<std::string> label_names_;
  const std::vector<double> buckets_;                   // histograms only
  prometheus::Family<typename M::Impl>* const family_;  // owned by the registry
  std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
  // The wrong-arity child: a metric outside the registry.
  std::unique_ptr<typename M::Impl> invalid_impl_;
  std::unique_ptr<M> invalid_;
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
  // [a-zA-Z_][a-zA-Z0-9_]* (not "le", not starting with "__"), and a name can
  // be registered once. The registry owns the families.
  absl::StatusOr<Family<Counter>*> AddCounter(const std::string& name, const std::string& help,
                                              std::vector<std::string> label_names = {});
  absl::StatusOr<Family<Gauge>*> AddGauge(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names = {});
  // `buckets`: strictly increasing finite upper bounds; +Inf is implicit.
  absl::StatusOr<Family<Histogram>*> AddHistogram(const std::string& name, const std::string& help,
                                                  std::vector<double> buckets,
                                                  std::vector<std::string> label_names = {});

  // The whole registry in the text exposition format.
  std::string Render() const;

  // 0.005 s .. 600 s, for phase and round latencies.
  static std::vector<double> LatencyBuckets();

 private:
  absl::Status CheckNew(const std::string& name, const std::vector<std::string>& labels) const;

  mutable std::mutex mu_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::vector<std::string> order_;  // registration order, for stable output
  std::map<std::string, std::unique_ptr<Family<Counter>>> counters_;
  std::map<std::string, std::unique_ptr<Family<Gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<Family<Histogram>>> histograms_;
};

}  // namespace tacit::coordinator
