#pragma once

// Xlib and XInput2 for the collector. Include it after every other header:
// Xlib defines macros with common names (Status, Bool, None, Success); Status
// is undefined here because it breaks absl::Status in whatever follows.

#include <X11/XKBlib.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/extensions/XInput2.h>

#undef Status
