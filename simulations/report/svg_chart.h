#pragma once

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tacit::sim {

// A line chart rendered to a standalone SVG document: per-round curves with an
// optional horizontal reference line (e.g. the centrally trained model). SVG
// keeps tacit-sim free of any plotting runtime; browsers and the docs render it.
// Measured points only: a series holds what was measured, and the chart
// marks each point, so a gap between evaluations is never mistaken for data.
struct ChartSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
  std::string color = "#1f77b4";
  // Optional spread around the line (e.g. min..max over seeds): (x, low, high).
  std::vector<std::array<double, 3>> band;
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

// The legend sits right of the plot, as wide as its longest label needs.
std::string RenderLineChartSvg(const LineChart& chart);

// Roughly how many pixels `text` takes at `font_px` in a sans-serif font
// (0.6 em per character, a little more for capitals and wide glyphs).
double EstimatedTextWidth(const std::string& text, double font_px = 12);

}  // namespace tacit::sim
