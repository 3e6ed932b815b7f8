#!/usr/bin/env bash
# Fails (exit 1) when code on the laptop could read a window title. The
# collector reads X properties in one file only, client/collector/x11_properties.cc,
# whose reader takes an enum of two properties (_NET_ACTIVE_WINDOW, WM_CLASS).
# Anywhere else under client/, any Xlib/XCB call that reads a property or a
# name, or a title atom, is a violation.
# Usage: check_no_titles.sh <source root>
set -uo pipefail
root="$1"
allowed="client/collector/x11_properties.cc"
readers='XGetWindowProperty|XFetchName|XGetWMName|XGetWMIconName|XGetIconName|XGetTextProperty|XGetClassHint|XmbTextPropertyToTextList|Xutf8TextPropertyToTextList|xcb_get_property|XListProperties'
titles='WM_NAME|WM_ICON_NAME|_NET_WM_NAME|_NET_WM_VISIBLE_NAME|_NET_WM_ICON_NAME|XA_WM_NAME|XA_WM_ICON_NAME'
failures=0
cd "$root" || exit 1
while IFS= read -r hit; do
  file="${hit%%:*}"
  [[ "$file" == "$allowed" ]] && continue
  echo "TITLE READ: $hit" >&2
  failures=$((failures + 1))
done < <(grep -rnE "\\b($readers)\\b" client --include='*.cc' --include='*.h')
# Title atoms may be named in comments only (lines whose code part is a comment).
while IFS= read -r hit; do
  code="${hit#*:*:}"
  [[ "$code" =~ ^[[:space:]]*// ]] && continue
  echo "TITLE ATOM: $hit" >&2
  failures=$((failures + 1))
done < <(grep -rnE "($titles)" client --include='*.cc' --include='*.h')
if [[ $failures -gt 0 ]]; then
  echo "$failures place(s) could read window titles; the collector may read _NET_ACTIVE_WINDOW" \
       "and WM_CLASS only, through client/collector/x11_properties.h" >&2
  exit 1
fi
echo "no window title reader under client/"
