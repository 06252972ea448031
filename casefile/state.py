"""Where a case stands: its stage, record version, packets and groups (ids and hashes only).

The stage is resolved once, at import, and stored; every face reads it from here, never from
case.yaml, so it is never missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class PacketRow:
    """One archived packet of a case."""

    packet_id: str
    stage: str
    archived: str
    object_key: str
    sha256: str
    size: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PacketRow:
        return cls(
            packet_id=data["packet_id"],
            stage=data.get("stage") or "",
            archived=data.get("archived") or "",
            object_key=data["object_key"],
            sha256=data.get("sha256") or "",
            size=int(data.get("size") or 0),
        )


@dataclass(frozen=True)
class GroupRow:
    """One group submission a case is a member of."""

    group_id: str
    object_key: str
    members: tuple[str, ...]
    archived: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupRow:
        return cls(
            group_id=data["group_id"],
            object_key=data["object_key"],
            members=tuple(data.get("members", [])),
            archived=data.get("archived") or "",
        )


@dataclass(frozen=True)
class CaseState:
    """The non-personal facts of a stored case: safe to list, log and show to an auditor."""

    case_id: str
    country: str
    procedure: str
    stage: str
    record_version: int
    created: str
    updated: str
    evidence_count: int
    packets: tuple[PacketRow, ...] = ()
    groups: tuple[GroupRow, ...] = ()
    status: dict[str, Any] | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["packets"] = [asdict(p) for p in self.packets]
        data["groups"] = [asdict(g) | {"members": list(g.members)} for g in self.groups]
        return data
