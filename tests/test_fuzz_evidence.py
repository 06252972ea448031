"""Fuzzing evidence bytes: mutated PDFs and images give a clean refusal (exit 2) or a packet, never a crash.

Inputs start from the fictional specimens (casefile.specimens) and are truncated, byte-flipped,
spliced with PDF syntax (JavaScript and launch actions, deep nesting, bogus lengths) or given another
format's header. In process they go through `packets.preflight` and, when accepted, through a real
packet build (no letters, so no LibreOffice); a smaller sample goes through the real CLI
(`dossier check FOLDER`, `dossier build FOLDER`). Every case runs under an alarm: a hang fails.

`make test` runs a small sample; a nightly-size run: DOSSIER_FUZZ_EXAMPLES=10000 make pytest.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import img2pdf
import pikepdf
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from casefile.specimens import specimen_image, specimen_pdf, write_specimens
from core.errors import BadInput, DossierError, EvidenceRejected
from core.yamlio import load_yaml_file
from packets import build_packet, preflight
from tests.clirun import dossier
from tests.conftest import EXAMPLE_SECRETS, EXAMPLES
from tests.fixtures_packets import PACKET_SECRETS, inputs_for, make_case

N_EXAMPLES = int(os.environ.get("DOSSIER_FUZZ_EXAMPLES", "150"))
N_CHECK = max(3, N_EXAMPLES // 400)  # real CLI `check` calls (~1 s each)
N_BUILD = max(2, N_EXAMPLES // 2000)  # real CLI `build` calls (Prefect + LibreOffice: ~8 s each)
HANG_S = 20  # one in-process pre-flight + build of a single small file never takes this long
EID = "ev-fuzz"


# --- base documents ----------------------------------------------------------------------------


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def _with_active_content(data: bytes) -> bytes:
    """The text specimen with an OpenAction script, a page launch action and document JavaScript."""
    pdf = pikepdf.open(io.BytesIO(data))
    pdf.Root.OpenAction = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    )
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")))
    return _save(pdf)


def _compressed(data: bytes) -> bytes:
    """The same PDF with object streams (the dictionaries are compressed, offsets live in a stream)."""
    pdf = pikepdf.open(io.BytesIO(data))
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


@cache
def bases() -> dict[str, tuple[bytes, str]]:
    """Name -> (bytes, file extension) of the documents mutations start from."""
    lines = ["SPECIMEN - FICTIONAL DOCUMENT", f"Evidence id: {EID}", "Holder: Ivan Sidorov", "Born: 1997-04-21"]
    text = specimen_pdf(lines, pages=2)
    jpeg = specimen_image(lines, "JPEG", (160, 210))
    scan = img2pdf.convert(jpeg, nodate=True)
    assert isinstance(scan, bytes)
    return {
        "text-pdf": (text, ".pdf"),
        "objstm-pdf": (_compressed(text), ".pdf"),
        "scan-pdf": (scan, ".pdf"),
        "active-pdf": (_with_active_content(text), ".pdf"),
        "jpeg": (jpeg, ".jpg"),
        "png": (specimen_image(lines, "PNG", (180, 120)), ".png"),
    }


# --- mutations ---------------------------------------------------------------------------------

PDF_SPLICES = [
    b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>",
    b"/AA << /O << /S /Launch /F (cmd.exe) >> >>",
    b"/Names << /JavaScript << /Names [(x) << /S /JavaScript /JS (this.exportDataObject\\(\\)) >>] >> >>",
    b"/Annots [<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] >>]",
    b"/AcroForm << /XFA 5 0 R >>",
    b"<< /Type /EmbeddedFile /Length 4 >> stream\nMZ\x90\x00\nendstream",
    b"/Length 999999999999",
    b"/Filter /FlateDecode",
    b"/Filter [/ASCII85Decode /LZWDecode /RunLengthDecode]",
    b"/Kids [1 0 R 1 0 R]",
    b"/Count -7",
    b"/Width 90000 /Height 90000",
    b"/MediaBox [0 0 1e308 -1e308]",
    b"/Rotate 45",
    b"[" * 3000,
    b"<<" * 1500,
    b"1 0 R " * 200,
    b"endobj\n",
    b"stream\r\n",
    b"endstream\n",
    b"xref\n0 1\n0000000000 65535 f \n",
    b"trailer\n<< /Root 1 0 R /Size 1 >>\n",
    b"startxref\n0\n%%EOF\n",
    b"%%EOF",
    b"/Encrypt << /Filter /Standard /V 5 /R 6 >>",
    b"\x00" * 64,
]
HEADERS = [b"%PDF-1.7\n", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"II*\x00", b"PK\x03\x04", b"MZ"]


@st.composite
def mutation(draw: st.DrawFn, size: int) -> tuple[str, Any]:
    """One edit of a byte string of the given size."""
    pos = st.integers(0, max(0, size))
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "splice", "delete", "repeat", "header", "zero"]))
    if kind == "truncate":
        return kind, draw(pos)
    if kind == "flip":
        return kind, draw(st.lists(st.tuples(pos, st.integers(1, 255)), min_size=1, max_size=16))
    if kind == "insert":
        return kind, (draw(pos), draw(st.binary(min_size=1, max_size=64)))
    if kind == "splice":
        return kind, (draw(pos), draw(st.sampled_from(PDF_SPLICES)))
    if kind == "header":
        return kind, draw(st.sampled_from(HEADERS))
    start = draw(pos)
    return kind, (start, draw(st.integers(1, 4096)))


def apply(data: bytes, edit: tuple[str, Any]) -> bytes:
    """The bytes after one edit (positions are clamped to the current length)."""
    kind, arg = edit
    n = len(data)
    if kind == "truncate":
        return data[: min(arg, n)]
    if kind == "flip":
        buf = bytearray(data)
        for p, mask in arg:
            if buf:
                buf[p % len(buf)] ^= mask
        return bytes(buf)
    if kind in ("insert", "splice"):
        p, chunk = arg
        p = min(p, n)
        return data[:p] + chunk + data[p:]
    if kind == "header":
        return arg + data[len(arg) :]
    start, length = arg
    start = min(start, n)
    if kind == "delete":
        return data[:start] + data[start + length :]
    if kind == "repeat":
        return data[: start + length] + data[start : start + length] + data[start + length :]
    return data[:start] + b"\x00" * len(data[start : start + length]) + data[start + length :]  # zero


Edit = tuple[str, Any]


def apply_all(data: bytes, edits: list[Edit]) -> bytes:
    for edit in edits:
        data = apply(data, edit)
    return data


@st.composite
def mutated_evidence(draw: st.DrawFn) -> tuple[str, list[Edit]]:
    """(base name, 1-4 edits): printed readably when an example fails, replayed with apply_all."""
    name = draw(st.sampled_from(sorted(bases())))
    data = bases()[name][0]
    edits: list[Edit] = []
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(mutation(len(data)))
        edits.append(edit)
        data = apply(data, edit)
    return name, edits


def mutate_bytes(data: bytes) -> st.SearchStrategy[bytes]:
    """Mutations of given bytes (for the real example files in the CLI sample)."""

    @st.composite
    def strategy(draw: st.DrawFn) -> bytes:
        out = data
        for _ in range(draw(st.integers(1, 3))):
            out = apply(out, draw(mutation(len(out))))
        return out

    return strategy()


# --- helpers -----------------------------------------------------------------------------------


class Hang(Exception):
    """Raised by the alarm when one fuzz case runs too long."""


@contextlib.contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _dump_on_failure(data: bytes, ext: str) -> Iterator[None]:
    """Keep the input of a failing example as a file under $DOSSIER_FUZZ_DUMP (to reproduce a nightly find)."""
    try:
        yield
    except BaseException:
        target = os.environ.get("DOSSIER_FUZZ_DUMP")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            (Path(target) / f"fail-{hashlib.sha256(data).hexdigest()[:12]}{ext}").write_bytes(data)
        raise


def _case_for(ext: str) -> Any:
    return make_case(
        [{"id": EID, "kind": "military.orders", "file": f"evidence/fuzz{ext}", "language": "ru"}], household=False
    )


def _assert_clean_refusal(exc: DossierError) -> None:
    assert isinstance(exc, BadInput) and exc.exit_code == 2, f"{type(exc).__name__} (exit {exc.exit_code}): {exc}"
    text = str(exc)
    assert not any(s in text for s in PACKET_SECRETS), text


# --- in process: pre-flight, then a real build of whatever pre-flight accepts ------------------


@settings(
    max_examples=N_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_evidence(), st.booleans())
def test_mutated_evidence_is_refused_by_id_or_builds(sample: tuple[str, list[Edit]], sanitise: bool) -> None:
    name, edits = sample
    base, ext = bases()[name]
    data = apply_all(base, edits)
    case = _case_for(ext)
    files = {EID: data}
    with alarm(HANG_S), _dump_on_failure(data, ext):
        problems = preflight(case, files, sanitise=sanitise)
        for p in problems:
            assert p.where == EID
            assert not any(s in p.what for s in PACKET_SECRETS), p.what
        if problems:
            event("refused by pre-flight")
            return
        try:
            built = build_packet(inputs_for(case, files, letters=[], sanitise=sanitise))
        except DossierError as exc:  # accepted by pre-flight but refused later: still a clear exit 2
            _assert_clean_refusal(exc)
            event("refused by the build")
            return
    event("built")
    assert built.pages >= 2  # the index and at least one evidence page
    with pikepdf.open(io.BytesIO(built.packet_pdf)) as pdf:
        assert len(pdf.pages) == built.pages


def test_the_bases_themselves_behave_as_expected() -> None:
    """The fuzzer starts from documents that pass (and one that carries active content)."""
    for name, (data, ext) in bases().items():
        problems = preflight(_case_for(ext), {EID: data})
        if name == "active-pdf":
            assert problems and "JavaScript" in problems[0].what and "launch" in problems[0].what
            assert preflight(_case_for(ext), {EID: data}, sanitise=True) == []
        else:
            assert problems == [], (name, problems)


@pytest.mark.parametrize(
    "edit",
    [
        ("truncate", 0),
        ("truncate", 9),
        ("splice", (0, b"[" * 3000)),
        ("header", b"PK\x03\x04"),
        ("flip", [(0, 0xFF)]),
    ],
)
def test_known_nasty_edits_are_refused_with_exit_2(edit: tuple[str, Any]) -> None:
    data, ext = bases()["text-pdf"]
    case = _case_for(ext)
    with alarm(HANG_S):
        problems = preflight(case, {EID: apply(data, edit)})
    assert problems and all(p.where == EID for p in problems)
    with pytest.raises(EvidenceRejected) as info:
        build_packet(inputs_for(case, {EID: apply(data, edit)}, letters=[]))
    assert info.value.exit_code == 2 and EID in str(info.value)


# Found by this fuzzer (minimal edit sequences): pre-flight accepts these, then the build crashed.
FOUND: dict[str, tuple[str, list[Edit]]] = {
    # A flipped byte turns a page's /Resources /Font into a string: the stamp code expects a dictionary.
    "stamp-resources-not-a-dictionary": ("text-pdf", [("flip", [(216, 7)]), ("header", b"%PDF-1.7\n")]),
    # Pre-flight parses without xref recovery and accepts; the bundle re-opens the raw bytes with recovery
    # and gets another document: no /Root at all ...
    "bundle-reopens-differently-no-root": ("objstm-pdf", [("repeat", (337, 469))]),
    # ... or zero pages where pre-flight saw one (the index then points at a page that does not exist).
    "bundle-reopens-differently-no-pages": ("text-pdf", [("flip", [(256, 141), (129, 180)])]),
}


@pytest.mark.parametrize("found", sorted(FOUND))
def test_inputs_found_by_fuzzing_are_refused_or_built_never_crash(found: str) -> None:
    name, edits = FOUND[found]
    base, ext = bases()[name]
    data = apply_all(base, edits)
    case = _case_for(ext)
    for sanitise in (False, True):
        with alarm(HANG_S):
            if preflight(case, {EID: data}, sanitise=sanitise):
                continue
            try:
                built = build_packet(inputs_for(case, {EID: data}, letters=[], sanitise=sanitise))
            except DossierError as exc:
                _assert_clean_refusal(exc)
                continue
        assert built.pages >= 2


# --- through the real CLI ----------------------------------------------------------------------

CASE = "fr-asylum-visa-couple"
CLI_EVIDENCE = [  # one file of each kind the example holds: text PDF, its translation, photo, screenshot
    "evidence/internal-passport.pdf",
    "evidence/internal-passport.fr.pdf",
    "evidence/photo.jpg",
    "evidence/wanted-notice.png",
    "evidence/personal-statement.pdf",
]


@pytest.fixture(scope="module")
def cli_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], dict[str, str]]:
    """The example folder with its specimens, the original bytes of the fuzzed files, and a CLI env."""
    root = tmp_path_factory.mktemp("fuzz-cli")
    folder = root / CASE
    shutil.copytree(EXAMPLES / CASE, folder, ignore=shutil.ignore_patterns("evidence"))
    write_specimens(folder)
    assert len(load_yaml_file(folder / "case.yaml")["evidence"]) == 30
    originals = {rel: (folder / rel).read_bytes() for rel in CLI_EVIDENCE}
    env = {
        "DOSSIER_HOME": str(root / "home"),
        "PREFECT_HOME": str(root / "prefect"),
        "DOSSIER_ACTOR": "fuzz",
        "DOSSIER_DAEMON": "off",  # flows in the CLI process itself: no daemon outlives the tests
    }
    return folder, originals, env


@st.composite
def cli_mutation(draw: st.DrawFn, originals: dict[str, bytes]) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(CLI_EVIDENCE))
    return rel, draw(mutate_bytes(originals[rel]))


def _assert_no_crash(res: Any, allowed: tuple[int, ...]) -> None:
    both = res.stdout + res.stderr
    assert res.code in allowed, f"exit {res.code}: {res.stderr[-1500:]}"
    assert "Traceback" not in both, res.stderr[-3000:]
    assert "internal error" not in res.stderr, res.stderr[-1500:]
    assert not any(s in res.stderr for s in EXAMPLE_SECRETS), res.stderr[-1500:]


def _cli_settings(n: int) -> Any:
    return settings(
        max_examples=n,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking through minute-long subprocess runs
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.mark.slow
def test_cli_check_of_a_folder_with_mutated_evidence_never_crashes(cli_case) -> None:
    folder, originals, env = cli_case

    @_cli_settings(N_CHECK)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        rel, mutated = data.draw(cli_mutation(originals))
        try:
            (folder / rel).write_bytes(mutated)
            res = dossier("check", str(folder), env=env, timeout=120)
        finally:
            (folder / rel).write_bytes(originals[rel])
        _assert_no_crash(res, (0, 1, 2))

    run()


@pytest.mark.slow
def test_cli_build_of_a_folder_with_mutated_evidence_refuses_with_exit_2_or_builds(cli_case) -> None:
    folder, originals, env = cli_case
    assert dossier("init", env=env).code == 0

    @_cli_settings(N_BUILD)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        rel, mutated = data.draw(cli_mutation(originals))
        try:
            (folder / rel).write_bytes(mutated)
            res = dossier("build", str(folder), env=env, timeout=300)
        finally:
            (folder / rel).write_bytes(originals[rel])
        _assert_no_crash(res, (0, 2))
        if res.code == 2:
            assert "evidence" in res.stderr, res.stderr[-1500:]
        else:
            assert res.last_line.startswith("P-"), res.stdout

    run()


@pytest.mark.slow
def test_cli_build_refusing_evidence_in_process_prints_no_traceback(cli_case) -> None:
    """Found by this fuzzer: with flows run in the CLI process (DOSSIER_DAEMON=off, or the fallback when the
    daemon is unavailable) a refused evidence file exits 2 with the right message, but Prefect's own
    logger also prints the task's traceback on standard error."""
    folder, originals, env = cli_case
    assert dossier("init", env=env).code == 0
    rel = "evidence/photo.jpg"
    try:
        (folder / rel).write_bytes(b"\0" * 500)
        res = dossier("build", str(folder), env=env, timeout=300)
    finally:
        (folder / rel).write_bytes(originals[rel])
    assert res.code == 2, res.stderr[-2000:]
    assert "ev-photo" in res.stderr
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
