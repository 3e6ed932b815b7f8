#pragma once

// The only place the collector reads X window properties. It can read
// exactly two, named by an enum rather than an atom, so a window title
// (WM_NAME, _NET_WM_NAME, WM_ICON_NAME) cannot be asked for by mistake:
//   _NET_ACTIVE_WINDOW on the root (EWMH: which window the window manager
//                      gave the focus), and
//   WM_CLASS           on a client window (instance and class, e.g.
//                      "xterm", "XTerm": the app, never the document).
// tests/architecture/check_no_titles.sh fails the build's tests when any
// other file under client/ calls an Xlib property or title reader.

#include <optional>
#include <string>

#include "client/collector/xlib.h"  // last: Xlib's macros

namespace tacit::collector {

enum class ReadableProperty { kNetActiveWindow, kWmClass };

// The atom name of each readable property (for tests and messages).
const char* ReadablePropertyName(ReadableProperty property);

// The window _NET_ACTIVE_WINDOW names; nullopt when the window manager does
// not keep it (no EWMH) or it names no window.
std::optional<Window> ActiveWindow(Display* display, Window root);

// The class part of WM_CLASS ("XTerm"); nullopt when the window has none.
std::optional<std::string> WindowClass(Display* display, Window window);

// WindowClass of `window` or of its nearest ancestor that has one (a focus
// window is often an app's inner window); nullopt up to the root.
std::optional<std::string> ClassOfTopLevel(Display* display, Window window);

}  // namespace tacit::collector
