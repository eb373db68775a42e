"""The reference node's control channel: frames, resynchronisation, and the agent's handling
of a request (run here, on the host: the agent is plain Python over subprocess)."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmqos.node.agent import handle, run_command
from vmqos.node.protocol import (
    HEADER,
    MAGIC,
    MAX_BODY,
    FrameDecoder,
    Request,
    Response,
    encode_frame,
)


def test_frame_layout_is_magic_length_json() -> None:
    frame = encode_frame({"id": "a", "op": "ping"})
    body = b'{"id":"a","op":"ping"}'
    assert frame == MAGIC + len(body).to_bytes(4, "big") + body
    assert HEADER.size == 12


@given(st.lists(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=20),
                                max_size=4), max_size=5),
       st.integers(min_value=1, max_value=17))
def test_any_split_of_a_stream_yields_the_same_messages(messages: list[dict[str, object]],
                                                       step: int) -> None:
    stream = b"".join(encode_frame(m) for m in messages)
    decoder = FrameDecoder()
    got = []
    for start in range(0, len(stream), step):
        got += decoder.feed(stream[start:start + step])
    assert got == messages
    assert decoder.skipped == 0


def test_garbage_before_and_between_frames_is_skipped() -> None:
    decoder = FrameDecoder()
    stream = (b"noise" + encode_frame({"id": "1"}) + b"VMQOS" + b"\x00junk"
              + encode_frame({"id": "2"}))
    assert decoder.feed(stream) == [{"id": "1"}, {"id": "2"}]
    assert decoder.skipped == len(b"noise") + len(b"VMQOS\x00junk")


def test_a_stale_frame_cut_short_does_not_swallow_the_next_one() -> None:
    """QEMU drops what the guest writes while no client is connected: a stale response may
    arrive cut short, its length claiming bytes that belong to the real response."""
    stale = encode_frame({"id": "old", "stdout": "x" * 40})[:30]
    real = encode_frame({"id": "new"})
    decoder = FrameDecoder()
    got = decoder.feed(stale + real + encode_frame({"id": "pad", "p": "y" * 60}))
    assert {"id": "new"} in got


def test_an_impossible_length_is_skipped() -> None:
    bogus = HEADER.pack(MAGIC, MAX_BODY + 1)
    assert FrameDecoder().feed(bogus + encode_frame({"id": "ok"})) == [{"id": "ok"}]


def test_response_round_trip_keeps_bytes_exact() -> None:
    response = Response("r1", exit_status=-9, stdout=bytes(range(256)), stderr=b"\xff\xfe",
                        timed_out=True, truncated=True, seconds=1.5, info={"release": "6.1"})
    back = FrameDecoder().feed(encode_frame(response.to_wire()))
    assert [Response.from_wire(m) for m in back] == [response]


@pytest.mark.parametrize(("message", "error"), [
    ({"id": "1", "op": "format-disk"}, "unknown op"),
    ({"id": "1", "op": "run", "argv": []}, "non-empty argv"),
    ({"id": "1", "op": "run", "argv": ["ls", 3]}, "argv must be a list of strings"),
    ({"id": "1", "op": "run", "argv": ["ls"], "env": {"A": 1}}, "env must map"),
    ({"id": "1", "op": "run", "argv": ["ls"], "timeout_s": 0}, "timeout_s must be"),
    ({"id": "1", "op": "run", "argv": ["ls"], "timeout_s": True}, "timeout_s must be"),
])
def test_a_bad_request_is_answered_with_what_is_wrong(message: dict[str, object],
                                                       error: str) -> None:
    response, leave = handle(message, None)
    assert response is not None and not leave
    assert response.id == "1" and response.exit_status is None
    assert response.error is not None and error in response.error


def test_run_returns_status_stdout_and_stderr_apart() -> None:
    response = run_command(Request("1", "run", ("sh", "-c", "echo out; echo err >&2; exit 3"),
                                   {"X": "1"}), None)
    assert response is not None
    assert (response.exit_status, response.stdout, response.stderr) == (3, b"out\n", b"err\n")


def test_run_adds_env_to_the_base_environment() -> None:
    response = run_command(Request("1", "run", ("sh", "-c", "echo $PATH:$HOME:$X"),
                                   {"X": "y"}), None)
    assert response is not None
    assert response.stdout == b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        b":/root:y\n"


def test_a_command_past_its_timeout_is_killed_with_its_children() -> None:
    started = time.monotonic()
    response = run_command(Request("1", "run", ("sh", "-c", "echo begun; sleep 30 & wait"),
                                   timeout_s=0.5), None)
    assert time.monotonic() - started < 5
    assert response is not None and response.timed_out
    assert response.stdout == b"begun\n"
    assert response.exit_status == -9


def test_a_missing_program_exits_127_as_env_does() -> None:
    response = run_command(Request("1", "run", ("/nonexistent/prog",)), None)
    assert response is not None and response.exit_status == 127
    assert b"No such file or directory" in response.stderr


def test_the_client_leaving_kills_the_command_and_drops_the_answer() -> None:
    """A pipe whose other end is closed polls POLLHUP/POLLERR, as the port does when the
    host end goes away."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    started = time.monotonic()
    try:
        assert run_command(Request("1", "run", ("sleep", "30")), write_end) is None
    finally:
        os.close(write_end)
    assert time.monotonic() - started < 5


def test_ping_and_poweroff() -> None:
    ping, leave = handle({"id": "p", "op": "ping"}, None)
    assert ping is not None and ping.info["release"] == os.uname().release and not leave
    off, leave = handle({"id": "o", "op": "poweroff"}, None)
    assert off is not None and off.exit_status == 0 and leave
