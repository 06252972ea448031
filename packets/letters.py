"""Letters: DOCX templates rendered with docxtpl, converted to PDF by one LibreOffice run per build."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
import pikepdf
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from core.errors import ConfigError, DossierError, RulesError
from packets.model import LetterSpec
from packets.pdfnorm import normalise_pdf
from packets.scratch import ScratchDir
from packets.zipfixed import ZIP_EPOCH, normalise_zip

DEFAULT_TIMEOUT_S = 180.0


SIGNATURE_HEIGHT_MM = 18.0  # how tall the office's signature and stamp images print


def render_letter(
    spec: LetterSpec,
    context: Mapping[str, Any],
    *,
    when: tuple[int, int, int, int, int, int] = ZIP_EPOCH,
    images: Mapping[str, bytes] | None = None,
) -> bytes:
    """The rendered DOCX, byte-stable; a variable the context lacks is an error, never a blank.

    `images` (e.g. {"signature": png, "stamp": png}) replace those context variables by pictures.
    """
    if not spec.template.is_file():
        raise RulesError(f"letter template {spec.template.name} not found", hint="run `dossier rules lint`")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701 - docxtpl escapes XML
    try:
        tpl = DocxTemplate(str(spec.template))
        values = dict(context)
        for key, data in (images or {}).items():
            if data:
                values[key] = InlineImage(tpl, io.BytesIO(data), height=Mm(SIGNATURE_HEIGHT_MM))
        tpl.render(values, jinja_env=env, autoescape=True)
    except jinja2.UndefinedError as exc:
        raise RulesError(
            f"letter template {spec.template.name}: {exc.message}",
            hint="add the variable to the letter context or fix the template; `dossier rules lint` lists them",
        ) from None
    except jinja2.TemplateError as exc:
        raise RulesError(f"letter template {spec.template.name}: template error ({type(exc).__name__})") from None
    out = io.BytesIO()
    tpl.save(out)
    return normalise_zip(out.getvalue(), when=when)


def find_soffice() -> str:
    """The LibreOffice executable: $DOSSIER_SOFFICE, else soffice or libreoffice on PATH."""
    explicit = os.environ.get("DOSSIER_SOFFICE")
    found = explicit or shutil.which("soffice") or shutil.which("libreoffice")
    if not found or (explicit and not shutil.which(explicit)):
        raise ConfigError(
            "LibreOffice (soffice) is not installed: letters cannot be converted to PDF",
            hint="install Debian's libreoffice-writer-nogui (make setup does it) or set DOSSIER_SOFFICE",
        )
    return found


class LetterConverter:
    """DOCX -> PDF with LibreOffice: one soffice process converts all letters of a build.

    Each converter has its own LibreOffice profile (-env:UserInstallation) in a private working
    folder (packets.scratch: 0700, in memory when /dev/shm is usable, removed on every exit path,
    SIGKILL included), so parallel builds never collide; the profile is kept between calls so later
    conversions start warm. Rendered letters, LibreOffice's own temp files (TMPDIR) and the PDFs
    exist only in that folder. Use it as a context manager (or call close()).
    """

    def __init__(self, soffice: str | None = None, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self._soffice = soffice
        self.timeout = timeout
        self._root: Path | None = None
        self._scratch: ScratchDir | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._lock = threading.Lock()
        self._runs = 0
        self.seconds = 0.0
        self.producer = ""  # e.g. "LibreOffice 7.4", read from the first converted PDF (for the manifest)

    def __enter__(self) -> LetterConverter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the private profile and work folders (and let their watchdog go)."""
        if self._finalizer is not None:
            self._finalizer()  # runs ScratchDir.remove once
            self._finalizer = None
        self._scratch = None
        self._root = None

    @property
    def workdir(self) -> Path | None:
        """The private working folder while the converter holds one (for tests and diagnostics)."""
        return self._root

    @property
    def runs(self) -> int:
        """How many soffice processes this converter started (one per convert call)."""
        return self._runs

    def _ensure_root(self) -> Path:
        if self._root is None:
            self._soffice = self._soffice or find_soffice()
            self._scratch = ScratchDir()  # sweeps folders of dead builds first
            self._finalizer = weakref.finalize(self, self._scratch.remove)  # also at GC and interpreter exit
            self._root = self._scratch.path
            (self._root / "profile").mkdir(mode=0o700)
            (self._root / "tmp").mkdir(mode=0o700)
        return self._root

    def convert(self, documents: Mapping[str, bytes]) -> dict[str, bytes]:
        """PDF bytes (metadata and ids normalised) for each named DOCX, from one soffice run."""
        if not documents:
            return {}
        with self._lock:
            root = self._ensure_root()
            work = Path(tempfile.mkdtemp(prefix="run-", dir=root))
            try:
                return self._convert_in(work, documents)
            finally:
                shutil.rmtree(work, ignore_errors=True)

    def _convert_in(self, work: Path, documents: Mapping[str, bytes]) -> dict[str, bytes]:
        assert self._root is not None and self._soffice is not None
        inputs: dict[str, Path] = {}
        for n, (name, data) in enumerate(documents.items()):
            path = work / f"letter{n:03d}.docx"
            path.write_bytes(data)
            inputs[name] = path
        out_dir = work / "out"
        cmd = [
            self._soffice,
            f"-env:UserInstallation={(self._root / 'profile').as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(out_dir),
            *[str(p) for p in inputs.values()],
        ]
        started = time.monotonic()
        private_tmp = str(self._root / "tmp")  # LibreOffice's own temp files hold document content too
        env = {**os.environ, "TMPDIR": private_tmp, "TMP": private_tmp, "TEMP": private_tmp}
        proc = subprocess.Popen(  # fixed argument list, no shell
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, cwd=work, env=env
        )
        self._runs += 1
        assert self._scratch is not None
        self._scratch.started(proc.pid)  # its session leader: the group the watchdog kills if we die
        try:
            _, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise DossierError(
                f"LibreOffice did not finish converting {len(inputs)} letter(s) within {self.timeout:.0f} s",
                hint="retry; if it persists, check that soffice runs headless on this machine",
            ) from None
        finally:
            self.seconds += time.monotonic() - started
            self._scratch.ended(proc.pid)
        results: dict[str, bytes] = {}
        missing: list[str] = []
        for name, path in inputs.items():
            pdf_path = out_dir / (path.stem + ".pdf")
            if pdf_path.is_file() and pdf_path.stat().st_size > 0:
                raw = pdf_path.read_bytes()
                if not self.producer:
                    self.producer = pdf_producer(raw)
                results[name] = normalise_pdf(raw)
            else:
                missing.append(name)
        if missing:
            detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
            raise DossierError(
                f"LibreOffice could not convert letter(s) {', '.join(missing)} to PDF "
                f"(exit code {proc.returncode}{'; ' + detail[0][:200] if detail else ''})",
                hint="open the rendered DOCX in LibreOffice to see what is wrong with the template",
            )
        return results


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill soffice and the children it started: they share the process group it leads."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def pdf_producer(data: bytes) -> str:
    """The /Producer a PDF names (which LibreOffice version made a letter), or ''."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return str(pdf.docinfo.get("/Producer", ""))
