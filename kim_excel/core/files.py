"""Files on disk: safe ASCII names, atomic writes, German reasons for system errors.

Every stage that writes a file or reports a failed write uses these, so a name is made safe
in one place and no reader ever sees half a file.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import unicodedata
from pathlib import Path

MAX_NAME = 60  # characters of a party name in a file name


TRANSLITERATION = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}


def ascii_name(name: str) -> str:
    """A safe ASCII file-name part: ``Lüdinghausen`` → ``Luedinghausen``.

    Outlook mangles non-ASCII attachment names; path characters could escape the folder.
    Anything but letters, digits, ``-`` and ``_`` becomes ``_``; ``../../evil`` → ``evil``,
    ``C:\\x`` → ``C_x``. At most :data:`MAX_NAME` characters.
    """
    text = "".join(TRANSLITERATION.get(ch, ch) for ch in name)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")
    # File names have a limit (255 bytes, 260 characters for a whole Windows path).
    return text[:MAX_NAME].rstrip("_") or "Kommune"


OS_REASONS = {
    errno.ENOSPC: "kein Speicherplatz mehr frei",
    errno.EACCES: "keine Schreib- oder Leserechte",
    errno.EPERM: "keine Berechtigung",
    errno.EROFS: "das Laufwerk ist schreibgeschützt",
    errno.ENAMETOOLONG: "ein Name ist zu lang",
    errno.EEXIST: "dort liegt eine Datei statt eines Ordners",
    errno.ENOTDIR: "ein Teil des Pfads ist eine Datei, kein Ordner",
    errno.ENOENT: "Ordner oder Datei nicht gefunden",
    errno.EISDIR: "ein Ordner steht, wo eine Datei sein sollte",
}


def os_reason(exc: BaseException) -> str:
    """A German reason for an operating-system error, for messages a clerk can act on."""
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc
    number = getattr(cause, "errno", None)
    if number in OS_REASONS:
        return OS_REASONS[number]
    return getattr(cause, "strerror", None) or str(cause) or type(cause).__name__


def link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_atomically(path: Path, data: bytes) -> None:
    """Write one file so that readers see the old or the new content, never half."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must not leave half a file behind
        raise
