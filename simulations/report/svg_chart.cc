#include "simulations/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/markup_escape.h"

namespace tacit::sim {
namespace {

constexpr double kPlotWidth = 470, kHeight = 420;
constexpr double kLeft = 70, kMinRight = 180, kTop = 40, kBottom = 55;
// Legend: 12 px gap, a 24 px line sample, 6 px gap, then the label.
constexpr double kLegendTextOffset = 42, kLegendMargin = 12;

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` ticks.
double NiceStep(double span, int target) {
  if (span <= 0) return 1;
  double raw = span / target;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double fraction = raw / magnitude;
  double nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * magnitude;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  void Settle() {
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  }
};

}  // namespace

double EstimatedTextWidth(const std::string& text, double font_px) {
  double em = 0;
  for (char c : text) {
    if ((c & 0xc0) == 0x80) continue;  // UTF-8 continuation byte: same glyph
    em += (c >= 'A' && c <= 'Z') || c == 'm' || c == 'w' || c == 'M' || c == 'W' ? 0.75 : 0.6;
  }
  return em * font_px;
}

std::string RenderLineChartSvg(const LineChart& chart) {
  Range x, y;
  double widest_label = 0;
  for (const auto& s : chart.series) {
    for (const auto& [px, py] : s.points) x.Add(px), y.Add(py);
    for (const auto& [bx, lo, hi] : s.band) x.Add(bx), y.Add(lo), y.Add(hi);
    widest_label = std::max(widest_label, EstimatedTextWidth(s.label));
  }
  for (const auto& r : chart.references) {
    widest_label = std::max(widest_label, EstimatedTextWidth(r.label));
  }
  const double kRight = std::max(kMinRight, kLegendTextOffset + widest_label + kLegendMargin);
  const double kWidth = kLeft + kPlotWidth + kRight;
  for (const auto& r : chart.references) y.Add(r.y);
  x.Settle();
  y.Settle();
  if (chart.y_min) y.lo = *chart.y_min;
  if (chart.y_max) y.hi = *chart.y_max;
  if (!chart.y_min && !chart.y_max) {
    double pad = 0.05 * (y.hi - y.lo);
    y.lo -= pad;
    y.hi += pad;
  }

  const double plot_w = kPlotWidth, plot_h = kHeight - kTop - kBottom;
  auto sx = [&](double v) { return kLeft + (v - x.lo) / (x.hi - x.lo) * plot_w; };
  auto sy = [&](double v) { return kTop + (1 - (v - y.lo) / (y.hi - y.lo)) * plot_h; };

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%.0f\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
      kWidth, kHeight, kWidth, kHeight, kLeft, EscapeMarkup(chart.title));

  // Grid and ticks.
  double ystep = NiceStep(y.hi - y.lo, 6);
  for (double v = std::ceil(y.lo / ystep) * ystep; v <= y.hi + 1e-9; v += ystep) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#e0e0e0\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"end\">%g</text>\n",
                          kLeft, sy(v), kLeft + plot_w, sy(v), kLeft - 6, sy(v) + 4,
                          std::round(v / ystep) * ystep);
  }
  double xstep = std::max(1.0, std::round(NiceStep(x.hi - x.lo, 8)));
  for (double v = std::ceil(x.lo / xstep) * xstep; v <= x.hi + 1e-9; v += xstep) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#f0f0f0\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"middle\">%g</text>\n",
                          sx(v), kTop, sx(v), kTop + plot_h, sx(v), kTop + plot_h + 18, v);
  }
  absl::StrAppendFormat(&svg,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"none\" stroke=\"#333\"/>\n",
                        kLeft, kTop, plot_w, plot_h);
  absl::StrAppendFormat(&svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                        kLeft + plot_w / 2, kHeight - 12, EscapeMarkup(chart.x_label));
  absl::StrAppendFormat(&svg,
                        "<text transform=\"translate(18 %.1f) rotate(-90)\" "
                        "text-anchor=\"middle\">%s</text>\n",
                        kTop + plot_h / 2, EscapeMarkup(chart.y_label));

  // Curves, references and the legend.
  double legend_y = kTop + 10;
  auto legend = [&](const std::string& label, const std::string& color, bool dashed) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"%s\" stroke-width=\"2\"%s/>\n<text x=\"%.1f\" "
                          "y=\"%.1f\">%s</text>\n",
                          kLeft + plot_w + 12, legend_y, kLeft + plot_w + 36, legend_y, color,
                          dashed ? " stroke-dasharray=\"6 4\"" : "", kLeft + plot_w + 42,
                          legend_y + 4, EscapeMarkup(label));
    legend_y += 20;
  };
  for (const auto& s : chart.series) {
    if (s.band.size() >= 2) {
      std::string outline;
      for (const auto& [bx, lo, hi] : s.band) {
        absl::StrAppendFormat(&outline, "%.1f,%.1f ", sx(bx), sy(hi));
      }
      for (auto it = s.band.rbegin(); it != s.band.rend(); ++it) {
        absl::StrAppendFormat(&outline, "%.1f,%.1f ", sx((*it)[0]), sy((*it)[1]));
      }
      absl::StrAppendFormat(&svg,
                            "<polygon fill=\"%s\" fill-opacity=\"0.2\" stroke=\"none\" "
                            "points=\"%s\"/>\n",
                            s.color, outline);
    }
    std::string path, marks;
    for (const auto& [px, py] : s.points) {
      if (!std::isfinite(py)) continue;
      absl::StrAppendFormat(&path, "%s%.1f,%.1f", path.empty() ? "" : " ", sx(px), sy(py));
      absl::StrAppendFormat(&marks, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                            sx(px), sy(py), s.color);
    }
    if (s.points.size() <= 60) svg += marks;  // denser: the line alone reads better
    if (!path.empty()) {
      absl::StrAppendFormat(&svg,
                            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                            "points=\"%s\"/>\n",
                            s.color, path);
    }
    legend(s.label, s.color, false);
  }
  for (const auto& r : chart.references) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
                          kLeft, sy(r.y), kLeft + plot_w, sy(r.y), r.color);
    legend(r.label, r.color, true);
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace tacit::sim
