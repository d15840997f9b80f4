"""Split a draft into sentences as it arrives, the same way whether it streams in or comes whole."""

import re

# A sentence ends at . ! ? (citation markers on either side stay with it) before whitespace and a capital, a
# digit or an opening quote or bracket; or at a line break. "1.45 kg" and "e.g. the" do not end sentences.
BOUNDARY_RE = re.compile(r"[.!?](?:\s*\[\d{1,3}\])*(?=\s+[A-ZÄÖÜ0-9\"'(„])|\n+")


class SentenceSplitter:
    """Feed text deltas; get back each sentence once the text after it shows that it is complete."""

    def __init__(self):
        self.buffer = ""

    def feed(self, delta: str) -> list[str]:
        self.buffer += delta
        sentences = []
        while True:
            match = BOUNDARY_RE.search(self.buffer)
            if match is None:
                return sentences
            sentence = self.buffer[: match.end()].strip()
            self.buffer = self.buffer[match.end() :].lstrip()
            if sentence:
                sentences.append(sentence)

    def flush(self) -> list[str]:
        rest, self.buffer = self.buffer.strip(), ""
        return [rest] if rest else []


def split_sentences(text: str) -> list[str]:
    splitter = SentenceSplitter()
    return splitter.feed(text) + splitter.flush()
