"""Write a small, valid, multi-page PDF of text (Helvetica, WinAnsi) without a PDF library.

The layout is deliberately simple: headings in bold, paragraphs wrapped to the page width, table rows
flattened to "cell – cell" lines. The output follows PDF 1.4: a catalog, a page tree, two standard fonts,
one content stream per page, an info dictionary and a cross-reference table with exact byte offsets.
"""

import re
import textwrap
import zlib

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 56  # 2 cm
BODY_SIZE, H1_SIZE, H2_SIZE = 10.5, 16, 12.5
LEADING = 1.4  # line height as a multiple of the font size
WRAP_CHARS = 88  # Helvetica averages ~0.5 em per character: 483 pt of text width at 10.5 pt, less a margin


def _text_string(text: str) -> bytes:
    """Encode a document string (outside content streams) as UTF-16BE hex with a byte-order mark."""
    return b"<FEFF%s>" % text.encode("utf-16-be").hex().upper().encode()


def _escape(text: str) -> bytes:
    """Encode for a PDF literal string in WinAnsi (cp1252), escaping the three special characters."""
    data = text.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _plain(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"\1", text).replace("`", "")


_BLOCK_START = re.compile(r"^(#|\||- |\d+\. |\s*$)")


def _blocks(markdown: str) -> list[str]:
    """Join hard-wrapped lines back into paragraphs and list items, so the PDF wraps them to its own width."""
    blocks: list[str] = []
    for raw in markdown.splitlines():
        line = _plain(raw.rstrip())
        continues = blocks and blocks[-1].strip() and not blocks[-1].startswith(("#", "|"))
        if continues and not _BLOCK_START.match(line):
            blocks[-1] += " " + line.strip()
        else:
            blocks.append(line)
    return blocks


def markdown_lines(markdown: str) -> list[tuple[str, float, str]]:
    """Return (font, size, text) lines: headings bold, table rows flattened, paragraphs wrapped."""
    lines: list[tuple[str, float, str]] = []
    for block in _blocks(markdown):
        if block.startswith("# "):
            lines += [("F2", H1_SIZE, block[2:]), ("F1", BODY_SIZE, "")]
        elif block.startswith("## "):
            lines += [("F1", BODY_SIZE, ""), ("F2", H2_SIZE, block[3:])]
        elif re.fullmatch(r"\|[-| ]+\|", block):
            continue  # a table's separator row
        elif block.startswith("|"):
            cells = [c.strip() for c in block.strip("|").split("|")]
            lines += [("F1", BODY_SIZE, part) for part in textwrap.wrap(" – ".join(cells), WRAP_CHARS)]
        else:
            hanging = "   " if re.match(r"^(- |\d+\. )", block) else ""
            wrapped = textwrap.wrap(block, WRAP_CHARS, subsequent_indent=hanging) or [""]
            lines += [("F1", BODY_SIZE, part) for part in wrapped]
    return lines


def _paginate(lines: list[tuple[str, float, str]]) -> list[list[tuple[str, float, float, str]]]:
    """Place lines top to bottom; start a new page when the next line would cross the bottom margin."""
    pages, page, y = [], [], PAGE_H - MARGIN
    for font, size, text in lines:
        y -= size * LEADING
        if y < MARGIN:
            pages.append(page)
            page, y = [], PAGE_H - MARGIN - size * LEADING
        if text:
            page.append((font, size, y, text))
    return [*pages, page] if page or not pages else pages


def _content(page: list[tuple[str, float, float, str]], number: int, total: int) -> bytes:
    ops = [b"BT"]
    for font, size, y, text in page:
        ops.append(b"/%s %g Tf 1 0 0 1 %d %.2f Tm (%s) Tj" % (font.encode(), size, MARGIN, y, _escape(text)))
    footer = _escape(f"Page {number} of {total}")
    ops.append(b"/F1 8 Tf 1 0 0 1 %d %d Tm (%s) Tj" % (PAGE_W - MARGIN - 40, MARGIN // 2, footer))
    ops.append(b"ET")
    return b"\n".join(ops)


def _stream(data: bytes) -> bytes:
    packed = zlib.compress(data)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed)


def pdf_build(pages: list[bytes], title: str) -> bytes:
    """Assemble page content streams into a PDF document and return its bytes."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
    first_page = 6  # objects 1-5: catalog, page tree, two fonts, info; then page and content pairs
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)),
        font % b"Helvetica",
        font % b"Helvetica-Bold",
        b"<< /Title %s /Producer (demo.pdf) >>" % _text_string(title),
    ]
    for i, content in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
            b"/Contents %d 0 R >>" % (PAGE_W, PAGE_H, first_page + 2 * i + 1)
        )
        objects.append(_stream(content))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # the binary comment marks the file as binary
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_from_markdown(title: str, markdown: str) -> bytes:
    """Render markdown text to a paginated PDF with page numbers."""
    pages = _paginate(markdown_lines(markdown))
    return pdf_build([_content(page, i, len(pages)) for i, page in enumerate(pages, start=1)], title)
