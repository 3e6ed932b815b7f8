#pragma once

// Text placed inside HTML or SVG (element content or a quoted attribute):
// & < > " ' become character references, so names read from files (a task
// name in the audit log, a chart label) cannot add markup or script.

#include <string>

namespace tacit {

std::string EscapeMarkup(const std::string& text);

}  // namespace tacit
