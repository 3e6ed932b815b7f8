#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tacit::sim {

// A line chart rendered to a standalone SVG document: per-round curves with an
// optional horizontal reference line (e.g. the centrally trained model). SVG
// keeps tacit-sim free of any plotting runtime; browsers and the docs render it.
struct ChartSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
  std::string color = "#1f77b4";
};

struct ChartReference {
  std::string label;
  double y = 0;
  std::string color = "#d62728";
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ChartSeries> series;
  std::vector<ChartReference> references;
  // When unset, the y range is fitted to the data and references.
  std::optional<double> y_min, y_max;
};

std::string RenderLineChartSvg(const LineChart& chart);

}  // namespace tacit::sim
