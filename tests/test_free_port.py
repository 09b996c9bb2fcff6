"""Ports for the servers tsdev starts in-process keep clear of the kernel's ephemeral range, where an
outgoing connection could take them between the pick and the bind."""

from __future__ import annotations

import socket

from tsdev.server.background import _ephemeral_ports, free_port


def test_a_free_port_can_be_listened_on_and_lies_below_the_ephemeral_range() -> None:
    ephemeral = _ephemeral_ports()
    for _ in range(20):
        port = free_port()
        if ephemeral.start > 10_100:
            assert port not in ephemeral
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))
            sock.listen()


def test_a_port_someone_listens_on_is_not_handed_out() -> None:
    taken = []
    try:
        for _ in range(200):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", free_port()))
            sock.listen()
            taken.append(sock)
        ports = {sock.getsockname()[1] for sock in taken}
        assert len(ports) == len(taken)
        assert free_port() not in ports
    finally:
        for sock in taken:
            sock.close()
