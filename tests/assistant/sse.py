"""Reading server-sent events in tests."""

import json


def sse_events(response) -> list[tuple[str, dict]]:
    """Parse a text/event-stream body into (event, data) pairs, in order."""
    assert response["Content-Type"].startswith("text/event-stream")
    body = b"".join(response.streaming_content).decode()
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events
