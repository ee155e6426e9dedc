"""Looking for a person everywhere: every file under a data directory and every row of the
database, for their face (in any image that decodes, whole or carved out of a larger file),
their file names and the bytes of their face embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import MetaData, create_engine, select

from headshots.errors import ImageError
from headshots.media import decode_image, downscale

_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")


def carve_images(data: bytes) -> list[np.ndarray]:
    """Every image that decodes from ``data`` or from any image signature inside it."""
    out = []
    offsets = {0}
    for sig in _SIGNATURES:
        start = data.find(sig)
        while start != -1 and len(offsets) < 200:
            offsets.add(start)
            start = data.find(sig, start + 1)
    for off in sorted(offsets):
        try:
            out.append(decode_image(data[off:]).pixels)
        except ImageError:
            continue
    return out


class PersonScanner:
    def __init__(self, backend, references: list[np.ndarray], names: list[str],
                 embeddings: list[np.ndarray], threshold: float = 0.6) -> None:
        self.backend, self.names, self.threshold = backend, names, threshold
        self.refs = np.stack([backend.embed(im, backend.analyse(im, hands=False, mask=False)
                                            .faces[0]) for im in references])
        self.needles = []
        for e in embeddings:
            for dtype in (np.float32, np.float64):
                self.needles.append(np.asarray(e, dtype).ravel()[:4].tobytes())

    def is_person(self, image: np.ndarray) -> bool:
        image = downscale(image, 1024)[0]
        for face in self.backend.analyse(image, hands=False, mask=False).faces:
            vec = self.backend.embed(image, face)
            if float(np.linalg.norm(self.refs - vec, axis=1).min()) < self.threshold:
                return True
        return False

    def scan_bytes(self, data: bytes, where: str) -> list[str]:
        found = [f"file name {n!r} in {where}" for n in self.names if n.encode() in data]
        found += [f"embedding bytes in {where}" for needle in self.needles if needle in data]
        found += [f"the person's face in {where}" for im in carve_images(data)
                  if self.is_person(im)]
        return found

    def scan_dir(self, folder: Path) -> list[str]:
        found = []
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                found += self.scan_bytes(f.read_bytes(), str(f.relative_to(folder)))
        return found

    def scan_database(self, url: str) -> list[str]:
        engine = create_engine(url)
        meta = MetaData()
        meta.reflect(engine)
        found = []
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(select(table)):
                    for column, value in row._mapping.items():
                        if value is None:
                            continue
                        data = value if isinstance(value, bytes) else str(value).encode()
                        found += self.scan_bytes(data, f"{table.name}.{column}")
        engine.dispose()
        return found
