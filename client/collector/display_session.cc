#include "client/collector/display_session.h"

namespace tacit::collector {

Session ClassifySession(const char* display, const char* wayland_display, bool xwayland_server) {
  const bool has_x = display != nullptr && *display != '\0';
  const bool has_wayland = wayland_display != nullptr && *wayland_display != '\0';
  if (!has_x) return has_wayland ? Session::kWaylandOnly : Session::kNoDisplay;
  if (has_wayland || xwayland_server) return Session::kXWayland;
  return Session::kX11;
}

std::string SessionNote(Session session) {
  switch (session) {
    case Session::kX11:
      return "";
    case Session::kXWayland:
      return "Wayland session: only apps running through XWayland are seen (their keys, clicks "
             "and focus); keys and clicks in native Wayland apps, and switches to them, are NOT "
             "collected, because Wayland lets no program see other apps' input";
    case Session::kWaylandOnly:
      return "Wayland session without an X display ($DISPLAY is empty): Wayland lets no "
             "program see other apps' keys, clicks or focus, so only shell command names (the "
             "shell hook) are collected here. Log in to an X11 session (e.g. \"GNOME on "
             "Xorg\"), or enable XWayland to collect from X apps";
    case Session::kNoDisplay:
      return "no X display ($DISPLAY is empty): only shell command names (the shell hook) are "
             "collected. For keys, clicks and app switches run `tacit-client collect` inside "
             "your desktop session, or pass --display :0";
  }
  return "";
}

}  // namespace tacit::collector
