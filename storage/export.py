"""The audit log as a report for a board, a donor or a court: CSV for spreadsheets, HTML to read and print.

Both hold only what the log holds (ids, actions, actors, object keys, hashes): no personal data.
The HTML report starts with the verification verdict, so a reader knows whether to trust the rest.
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.settings import TOOL_VERSION
from storage.audit import AuditLog, VerifyReport

__all__ = ["CSV_COLUMNS", "AuditExport", "export_audit", "render_csv", "render_html"]

CSV_COLUMNS = ("seq", "time", "actor", "action", "case_id", "object_key", "sha256", "prev", "hash")


@dataclass(frozen=True)
class AuditExport:
    """Where the report was written and what verification said."""

    csv_path: Path
    html_path: Path
    entries: int
    ok: bool


def render_csv(entries: list[dict[str, Any]]) -> bytes:
    """One row per entry, fixed columns, UTF-8 with a header."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for e in entries:
        writer.writerow({k: "" if e.get(k) is None else e.get(k) for k in CSV_COLUMNS})
    return buf.getvalue().encode()


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222;max-width:75em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.85em}th,td{border:1px solid #ddd;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3}code{font-size:.9em;word-break:break-all}
.ok{background:#e7f6e7;border:1px solid #7c7;padding:.6em 1em}.bad{background:#fde8e8;border:1px solid #d77;
padding:.6em 1em}.muted{color:#666}@media print{body{margin:0}}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def render_html(
    entries: list[dict[str, Any]], report: VerifyReport, *, store: str, case_id: str | None, generated: str
) -> bytes:
    """A self-contained, printable HTML page: verdict, summary, packets archived, full entry list."""
    scope = f"case {case_id}" if case_id else "all cases"
    verdict_class = "ok" if report.ok else "bad"
    verdict = (
        "Verified: every entry chains to the one before it and every recorded object still has its recorded hash."
        if report.ok
        else f"Verification FAILED with {len(report.problems)} problem(s): do not rely on this archive "
        "until they are explained."
    )
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>Dossier audit report: {_e(scope)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Dossier audit report: {_e(scope)}</h1>",
        f"<p class=muted>Generated {_e(generated)} by Dossier {_e(TOOL_VERSION)} from <code>{_e(store)}</code>."
        " The log holds ids and hashes only: no names or personal details.</p>",
        f"<div class={verdict_class}><strong>{_e(verdict)}</strong><br>{_e(report.lines()[0])}",
    ]
    if report.problems:
        parts.append("<ul>" + "".join(f"<li>{_e(p)}</li>" for p in report.problems) + "</ul>")
    parts += [f"<br><span class=muted>{_e(n)}</span>" for n in report.notes]
    parts.append("</div>")

    counts = Counter(str(e.get("action")) for e in entries)
    cases = sorted({str(e["case_id"]) for e in entries if e.get("case_id")})
    actors = sorted({str(e["actor"]) for e in entries if e.get("actor")})
    first = entries[0].get("time") if entries else None
    last = entries[-1].get("time") if entries else None
    parts += [
        "<h2>Summary</h2><table>",
        f"<tr><th>Entries</th><td>{len(entries)}</td></tr>",
        f"<tr><th>Period</th><td>{_e(first)} to {_e(last)}</td></tr>",
        f"<tr><th>Cases</th><td>{len(cases)}</td></tr>",
        f"<tr><th>Staff (actors)</th><td>{_e(', '.join(actors))}</td></tr>",
        f"<tr><th>Head hash</th><td><code>{_e(report.head)}</code></td></tr>",
        "</table><h2>Actions</h2><table><tr><th>Action</th><th>Count</th></tr>",
        *(f"<tr><td>{_e(a)}</td><td>{n}</td></tr>" for a, n in sorted(counts.items())),
        "</table>",
    ]

    packets = [e for e in entries if e.get("action") == "archive-packet"]
    parts.append("<h2>Packets archived</h2>")
    if packets:
        parts.append(
            "<table><tr><th>Entry</th><th>Time (UTC)</th><th>Case</th><th>Packet</th><th>By</th>"
            "<th>SHA-256 of the stored (encrypted) packet</th></tr>"
        )
        for e in packets:
            packet_id = str(e.get("object_key") or "").split("/")[1] if e.get("object_key") else ""
            parts.append(
                f"<tr><td>{_e(e['seq'])}</td><td>{_e(e.get('time'))}</td><td>{_e(e.get('case_id'))}</td>"
                f"<td>{_e(packet_id)}</td><td>{_e(e.get('actor'))}</td><td><code>{_e(e.get('sha256'))}</code></td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    shredded = [e for e in entries if e.get("action") == "shred-case"]
    if shredded:
        parts.append(
            "<h2>Cases crypto-shredded</h2><table><tr><th>Entry</th><th>Time (UTC)</th><th>Case</th><th>By</th></tr>"
        )
        parts += [
            f"<tr><td>{_e(e['seq'])}</td><td>{_e(e.get('time'))}</td><td>{_e(e.get('case_id'))}</td>"
            f"<td>{_e(e.get('actor'))}</td></tr>"
            for e in shredded
        ]
        parts.append("</table>")

    parts.append(
        "<h2>Every entry</h2><table><tr><th>#</th><th>Time (UTC)</th><th>Actor</th><th>Action</th>"
        "<th>Case</th><th>Object</th><th>SHA-256</th></tr>"
    )
    parts += [
        f"<tr><td>{_e(e.get('seq'))}</td><td>{_e(e.get('time'))}</td><td>{_e(e.get('actor'))}</td>"
        f"<td>{_e(e.get('action'))}</td><td>{_e(e.get('case_id'))}</td><td><code>{_e(e.get('object_key'))}</code>"
        f"</td><td><code>{_e((e.get('sha256') or '')[:16])}</code></td></tr>"
        for e in entries
    ]
    parts += [
        "</table><h2>How to check this yourself</h2><p>With read-only access to the store and the organisation's"
        " checkpoint public key: <code>dossier audit verify --since CHECKPOINT.json</code>. Each entry's"
        " <code>hash</code> is the SHA-256 of its canonical JSON without that field, and each entry holds the"
        " previous entry's hash (see audit.csv).</p></body></html>",
    ]
    return "\n".join(parts).encode()


def export_audit(
    audit: AuditLog,
    out_dir: Path,
    *,
    case_id: str | None = None,
    since_checkpoint: Path | None = None,
    public_key: Path | None = None,
) -> AuditExport:
    """Verify the log, then write audit.csv and audit.html (one case's entries when case_id is given)."""
    report = audit.verify(since_checkpoint=since_checkpoint, public_key=public_key)
    entries = audit.entries(case_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"audit-{case_id}" if case_id else "audit"
    csv_path, html_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.html"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    csv_path.write_bytes(render_csv(entries))
    html_path.write_bytes(render_html(entries, report, store=audit.store.url, case_id=case_id, generated=generated))
    return AuditExport(csv_path, html_path, len(entries), report.ok)
