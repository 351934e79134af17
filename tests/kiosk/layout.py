"""Layout checks run on every screenshot: what a citizen must be able to press is big enough
and not covered by another button (the landscape keypad once hid 7/8/9/0 under back/OK)."""

from __future__ import annotations

from typing import Any

# ≥ 15 mm on the smallest panel we ship (21.5 inch 1080p, 0.25 mm/px) is 60 px; our own
# floor is higher so elderly fingers have room.
MIN_TARGET_PX = 100


def visible_buttons(root: Any) -> list[Any]:
    from kivy.uix.button import Button

    out = []
    for w in root.walk(restrict=True):
        if not isinstance(w, Button) or w.disabled or w.width <= 1 or w.height <= 1:
            continue
        node, shown = w, True
        while node is not None and node is not root.parent:
            if node.opacity == 0:
                shown = False
                break
            node = node.parent
        if shown:
            out.append(w)
    return out


def check_targets(*roots: Any) -> list[str]:
    """Problems found: buttons smaller than MIN_TARGET_PX, overlapping another button, or
    with more text than fits."""
    buttons = [b for r in roots for b in visible_buttons(r)]
    boxes = []
    problems = []
    for b in buttons:
        x, y = b.to_window(b.x, b.y)
        boxes.append((b, x, y, x + b.width, y + b.height))
        if min(b.width, b.height) < MIN_TARGET_PX:
            problems.append(f"{b.text!r} is {b.width:.0f}×{b.height:.0f} px")
        if b.texture_size[1] > b.height or b.texture_size[0] > b.width:
            # the elderly tiles once spilled their text over the borders
            problems.append(f"{b.text[:30]!r} text {b.texture_size} > {b.size}")
    for i, (a, ax0, ay0, ax1, ay1) in enumerate(boxes):
        for b, bx0, by0, bx1, by1 in boxes[i + 1 :]:
            if ax0 < bx1 - 1 and bx0 < ax1 - 1 and ay0 < by1 - 1 and by0 < ay1 - 1:
                problems.append(f"{a.text!r} overlaps {b.text!r}")
    return problems
