"""Packet assembly: pre-flight of evidence, letters, the bundled packet.pdf and its BagIt bag."""

from packets.bag import check_bag_zip, read_bag_zip, unpack_bag_zip
from packets.build import build_packet
from packets.group import BuiltGroup, GroupMember, build_group, group_id_for, load_group_file
from packets.letters import LetterConverter, render_letter
from packets.model import (
    DEFAULT_MAX_IMAGE_PIXELS,
    BuiltPacket,
    LetterSpec,
    PacketInputs,
    packet_id_for,
)
from packets.preflight import preflight, text_layer_warnings

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "BuiltGroup",
    "BuiltPacket",
    "GroupMember",
    "LetterConverter",
    "LetterSpec",
    "PacketInputs",
    "build_group",
    "build_packet",
    "check_bag_zip",
    "group_id_for",
    "load_group_file",
    "packet_id_for",
    "preflight",
    "read_bag_zip",
    "render_letter",
    "text_layer_warnings",
    "unpack_bag_zip",
]
