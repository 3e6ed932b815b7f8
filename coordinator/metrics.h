#pragma once

// A small Prometheus registry: counters, gauges and histograms, each a
// family with fixed label names, rendered in the text exposition format
// 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
// Recording is thread-safe and lock-free for counters and gauges; families
// and label sets are created once and then reused by pointer.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit::coordinator {

class Counter {
 public:
  void Increment(double by = 1.0);  // by must be >= 0; negative is ignored
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;  // without +Inf
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last is +Inf
  double sum_ = 0;
};

enum class MetricType { kCounter, kGauge, kHistogram };

// One metric name with its label names; children per label value tuple.
template <typename M>
class Family {
 public:
  // Returns the child for these label values (created on first use). The
  // number of values must match the family's label names; a mismatch is a
  // programming error and returns a shared "invalid" child that is never
  // rendered, rather than crash a serving coordinator.
  M& With(const std::vector<std::string>& label_values);

  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls fn(label_values, child) for every child, in label order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [values, child] : children_) fn(values, *child);
  }

 private:
  friend class MetricsRegistry;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        buckets_(std::move(buckets)) {}
  std::unique_ptr<M> NewChild() const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> buckets_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
  std::unique_ptr<M> invalid_;
};

class MetricsRegistry {
 public:
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
  absl::Status CheckNew(const std::string& name, const std::vector<std::string>& labels);

  mutable std::mutex mu_;
  std::vector<std::string> order_;  // registration order, for stable output
  std::map<std::string, std::unique_ptr<Family<Counter>>> counters_;
  std::map<std::string, std::unique_ptr<Family<Gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<Family<Histogram>>> histograms_;
};

}  // namespace tacit::coordinator
