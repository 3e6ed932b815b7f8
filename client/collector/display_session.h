#pragma once

// Which desktop session the collector runs in, and what it can see there.
// X11: every app's keys, clicks and focus. Wayland: a program cannot see
// other apps' input without the compositor, so only apps running through
// XWayland are seen. Pure: the caller passes the environment and what the
// X server said.

#include <string>

namespace tacit::collector {

enum class Session {
  kX11,          // an X server, no Wayland compositor
  kXWayland,     // Wayland with XWayland: only X apps are seen
  kWaylandOnly,  // Wayland without a usable X display: nothing can be seen
  kNoDisplay,    // neither
};

// From $DISPLAY and $WAYLAND_DISPLAY (either may be null or empty) and
// whether the X server, once opened, reported the XWAYLAND extension.
Session ClassifySession(const char* display, const char* wayland_display, bool xwayland_server);

// What is and is not collected in `session`, for the terminal and the
// heartbeat ("" for plain X11).
std::string SessionNote(Session session);

}  // namespace tacit::collector
