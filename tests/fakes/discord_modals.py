"""Modals in the Discord fake: the interaction callback of type 9 (MODAL) that discord.py's
`send_modal` posts, checked against Discord's bounds, and the MODAL_SUBMIT interaction
(type 5) a user sends by submitting it: `data.custom_id` and `data.components`, each text
input inside its label (type 18) or, the older way, its action row (type 1), with its value."""

from __future__ import annotations

from typing import Any

LABEL, ACTION_ROW, TEXT_INPUT = 18, 1, 4
MAX_TITLE = MAX_LABEL = 45
MAX_CUSTOM_ID = 100
MAX_TEXT = 4000


def modal_problem(data: dict[str, Any]) -> str | None:
    """Why Discord would refuse `data` as a modal (`Invalid Form Body`), or None."""
    if not 1 <= len(data.get("custom_id") or "") <= MAX_CUSTOM_ID:
        return "custom_id"
    if not 1 <= len(data.get("title") or "") <= MAX_TITLE:
        return "title"
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        return "components"
    for component in components:
        if component["type"] == LABEL and not 1 <= len(component.get("label", "")) <= MAX_LABEL:
            return "label"
        for box in _inputs(component):
            if box["type"] != TEXT_INPUT or not 1 <= len(box.get("custom_id") or "") <= 100:
                return "text input"
            longest = min(box.get("max_length") or MAX_TEXT, MAX_TEXT)
            if len(box.get("value") or "") > longest:
                return "value"
    return None


def submission(modal: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The `data` of the MODAL_SUBMIT interaction of `modal` filled with `values` (by text
    input custom id), shaped as the modal's components are."""
    components = []
    for number, component in enumerate(modal["components"], start=1):
        boxes = [{"type": TEXT_INPUT, "id": 100 + number, "custom_id": box["custom_id"],
                  "value": values.get(box["custom_id"], box.get("value") or "")}
                 for box in _inputs(component)]
        if component["type"] == LABEL:
            components.append({"type": LABEL, "id": number, "component": boxes[0]})
        else:
            components.append({"type": ACTION_ROW, "id": number, "components": boxes})
    return {"custom_id": modal["custom_id"], "components": components}


def _inputs(component: dict[str, Any]) -> list[dict[str, Any]]:
    if component["type"] == LABEL:
        return [component["component"]]
    return list(component.get("components") or [])
