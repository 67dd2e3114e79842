"""REPORT.html: a study's report as one self-contained page to share - REPORT.md's text and tables, and its
figures as inline SVG whose data points show their values on hover (an SVG <title> a point: no script, no
CDN, nothing fetched; it opens offline in any browser)."""

from __future__ import annotations

import html
import io
import math
import re

#: Points a figure gets hover labels for; a larger figure is shown without them (the page stays light).
MAX_TIPS = 3000
STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
         "table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ccc;padding:.2rem .4rem}"
         "figure{margin:1rem 0}svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:0 .2rem}")


def interactive_svg(fig) -> str:
    """The figure as SVG text with a hover label on every data point of its lines and scatters."""
    tips = []
    for ax in fig.axes:
        xlabel, ylabel = ax.get_xlabel() or "x", ax.get_ylabel() or "y"
        for label, xs, ys in list(_series(ax)):
            for x, y in zip(xs, ys):
                if len(tips) >= MAX_TIPS or not (_finite(x) and _finite(y)):
                    continue
                gid = f"plmodel-point-{len(tips)}"
                ax.plot([x], [y], marker="o", markersize=8, linestyle="none", alpha=0.0, gid=gid)
                tips.append((gid, f"{label + ': ' if label else ''}{xlabel} = {x:.6g}, {ylabel} = {y:.6g}"))
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prologue and DOCTYPE: the SVG sits inside the page
    for gid, tip in tips:
        svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}"><title>{html.escape(tip)}</title>', 1)
    return svg


def _series(ax):
    """(label, xs, ys) of every line and scatter of an axes that carries data."""
    for line in ax.get_lines():
        label = line.get_label()
        yield ("" if label.startswith("_") else label), list(line.get_xdata()), list(line.get_ydata())
    for coll in ax.collections:
        offsets = coll.get_offsets()
        if len(offsets):
            label = coll.get_label()
            yield ("" if label.startswith("_") else label), [p[0] for p in offsets], [p[1] for p in offsets]
    for bars in ax.containers:  # a bar's top, at its centre
        label = bars.get_label()
        rects = [r for r in bars if hasattr(r, "get_height")]
        yield (("" if label.startswith("_") else label), [r.get_x() + r.get_width() / 2 for r in rects],
               [r.get_y() + r.get_height() for r in rects])


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def page(markdown_text: str, figures: dict, title: str) -> str:
    """The whole page: REPORT.md's text with each `![name](name.png)` replaced by that figure's SVG."""
    body, table, para = [], [], []

    def flush():
        if table:
            body.append(_table(table))
            table.clear()
        if para:
            body.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    for line in markdown_text.splitlines():
        image = re.fullmatch(r"!\[([^\]]*)\]\(([^)]+)\.png\)", line.strip())
        if line.startswith("|"):
            if para:
                flush()
            table.append(line)
            continue
        flush()
        if image:
            svg = figures.get(image.group(2))
            body.append(f"<figure>{svg}<figcaption>{html.escape(image.group(1))}</figcaption></figure>" if svg else "")
        elif line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")), 6)
            body.append(f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>")
        elif line.strip():
            para.append(line.strip())
    flush()
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(b for b in body if b) + "\n</body></html>\n")


def _table(lines: list) -> str:
    rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r if c)]
    head, rest = rows[0], rows[1:]
    out = "<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"
    out += "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rest)
    return f"<table>{out}</table>"


def _inline(text: str) -> str:
    """Markdown's inline code and bold, the rest escaped."""
    text = html.escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
