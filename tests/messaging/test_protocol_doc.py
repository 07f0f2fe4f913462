"""docs/protocol.md stays in step with the code: every op, error code and close code is documented."""

from __future__ import annotations

from pathlib import Path

from apps.common.errors import all_codes
from apps.messaging import protocol

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def test_every_op_is_documented():
    for op in protocol.OPS:
        assert f"### `{op}`" in DOC, op


def test_every_error_code_is_in_the_table():
    for code, msg, _status in all_codes():
        assert f"| {code} |" in DOC and msg in DOC, code


def test_every_close_code_is_documented():
    for name in dir(protocol):
        if name.startswith("CLOSE_"):
            assert f"| {getattr(protocol, name)} |" in DOC, name
