"""A dataset's file, stored in the database in chunks so that every worker on
every machine can read it, and written and read without holding it whole."""

import hashlib
import io
import uuid
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import DatasetChunk

# 4 MiB: large enough that a 200 MB file is 50 rows, small enough that neither
# the API nor a database driver ever holds much of it at once.
CHUNK_BYTES = 4 * 1024 * 1024


def store(
    session: Session, dataset_id: uuid.UUID, binary: IO[bytes]
) -> tuple[int, str]:
    """Copy ``binary`` from its start into chunks; return its size and SHA-256."""
    binary.seek(0)
    digest, size, seq = hashlib.sha256(), 0, 0
    while chunk := binary.read(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
        row = DatasetChunk(dataset_id=dataset_id, seq=seq, data=chunk)
        session.add(row)
        session.flush()
        session.expunge(row)
        seq += 1
    binary.seek(0)
    return size, digest.hexdigest()


class _ChunkStream(io.RawIOBase):
    """The stored chunks read in order, one query per chunk."""

    def __init__(self, session: Session, dataset_id: uuid.UUID) -> None:
        self.session = session
        self.dataset_id = dataset_id
        self.seq = 0
        self.buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:  # type: ignore[no-untyped-def]
        if not self.buffer:
            data = self.session.scalar(
                select(DatasetChunk.data).where(
                    DatasetChunk.dataset_id == self.dataset_id,
                    DatasetChunk.seq == self.seq,
                )
            )
            if data is None:
                return 0
            self.seq += 1
            self.buffer = memoryview(data)
        count = min(len(target), len(self.buffer))
        target[:count] = self.buffer[:count]
        self.buffer = self.buffer[count:]
        return count


def open_stored(session: Session, dataset_id: uuid.UUID) -> io.BufferedReader:
    """The stored file as a binary stream (not seekable)."""
    return io.BufferedReader(_ChunkStream(session, dataset_id), CHUNK_BYTES)
