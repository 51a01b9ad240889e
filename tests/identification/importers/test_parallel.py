"""Large files read in parts by worker processes give exactly what one process gives.

The workers are real processes (``python -m identification.importers.worker``); parts are made tiny
here so that the small real exports are cut into many.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest

from identification.importers import Format, ImportFormatError, ImportReport, open_records, parallel
from tests.identification.importers.helpers import decode_copy_rows, record_row_format, ris_record
from tests.paths import EXPORTS


def _is_ris(path: Path) -> bool:
    if "__" not in path.name:  # SOURCES.md, .gitattributes
        return False
    with path.open("rb") as fh:
        return open_records(fh, filename=path.name).format is Format.RIS


RIS_EXPORTS = sorted(p.name for p in EXPORTS.iterdir() if _is_ris(p))


def serial(path: Path, row_format):
    with path.open("rb") as fh:
        opened = open_records(fh, filename=path.name)
        rows = b"".join(row_format.encode(batch) for batch in opened.batches(7))
        return opened.encoding, rows, opened.report


def in_parts(path: Path, row_format, *, encoding: str, part_bytes: int, processes: int):
    report = ImportReport(format="ris")
    pieces, offsets = [], []
    with path.open("rb") as binary:
        parts = parallel.iter_parts(binary, fmt=Format.RIS, part_bytes=part_bytes)
        with parallel.PartsReader(
            path,
            parts=parts,
            fmt=Format.RIS,
            encoding=encoding,
            row_format=row_format,
            processes=processes,
            report=report,
        ) as reader:
            for _count, rows, offset in reader:
                pieces.append(rows)
                offsets.append(offset)
            cut = reader.parts
    assert offsets == sorted(offsets) and offsets[-1] == path.stat().st_size
    return b"".join(pieces), report, cut


def test_the_ris_exports_are_all_here():
    assert len(RIS_EXPORTS) >= 7, RIS_EXPORTS


@pytest.mark.parametrize("name", RIS_EXPORTS)
def test_every_ris_export_read_in_parts_gives_the_same_rows(name):
    path = EXPORTS / name
    row_format = record_row_format()
    encoding, expected, expected_report = serial(path, row_format)
    assert parallel.splittable(Format.RIS, encoding)
    for part_bytes, processes in ((1, 3), (1500, 2), (10**9, 2)):
        rows, report, parts = in_parts(
            path, row_format, encoding=encoding, part_bytes=part_bytes, processes=processes
        )
        assert rows == expected, (name, part_bytes, processes)
        assert report.as_dict() == expected_report.as_dict() | {"format": "ris"} | {
            "encoding": "",
            "encoding_fell_back": False,
        }
        if part_bytes == 1:
            # Cut before every record but the first: as many parts as records (or more, for
            # records skipped as unusable).
            assert len(parts) >= expected_report.parsed
    decoded = decode_copy_rows(expected, row_format)
    with path.open("rb") as fh:
        records = list(open_records(fh, filename=name))
    assert [row[1] for row in decoded] == [r.title for r in records]
    assert [row[-1] for row in decoded] == [r.source_line for r in records]


def _cuts_by_hand(data: bytes, part_bytes: int) -> list[tuple[int, int]]:
    """(offset, line) of each cut, the slow obvious way."""
    cuts, target = [], part_bytes
    at = data.find(b"\nTY  - ")
    while at >= 0:
        cut = at + 1
        if cut >= target:
            head = data[:cut]
            lines = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n")
            cuts.append((cut, lines + 1))
            target = cut + part_bytes
        at = data.find(b"\nTY  - ", cut)
    return cuts


@pytest.mark.parametrize("block", [7, 8, 13, 64, 4096])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "mixed"])
def test_cuts_fall_before_records_and_know_their_line_whatever_the_block_size(
    monkeypatch, block, newline
):
    monkeypatch.setattr(parallel, "_BLOCK", block)
    records = [ris_record(f"Title {i}", doi=f"10.1/{i}") for i in range(40)]
    if newline == "mixed":
        # CRLF, LF and lone CR records in turn (a CR record is not cut before: no LF).
        text = "".join(r.replace("\n", ("\r\n", "\n", "\r")[i % 3]) for i, r in enumerate(records))
    else:
        text = "".join(records).replace("\n", newline)
    data = ("Provider: X\n\n" + text).encode()
    for part_bytes in (1, 50, 333, 10**6):
        parts = list(parallel.iter_parts(io.BytesIO(data), fmt=Format.RIS, part_bytes=part_bytes))
        assert parts[0].start == 0 and parts[0].first_line == 1
        assert parts[-1].end == len(data) and parts[-1].last
        assert not any(p.last for p in parts[:-1])
        assert all(a.end == b.start for a, b in itertools.pairwise(parts))
        assert [(p.start, p.first_line) for p in parts[1:]] == _cuts_by_hand(data, part_bytes)
        assert all(data[p.start : p.start + 6] == b"TY  - " for p in parts[1:])


def test_a_file_cut_short_fails_in_parts_as_it_does_whole(tmp_path):
    path = tmp_path / "cut.ris"
    records = "".join(ris_record(f"Title {i}", doi=f"10.1/{i}") for i in range(30))
    path.write_bytes((records + "TY  - JOUR\nTI  - Cut here\nAU  - Smith").encode())
    with pytest.raises(ImportFormatError) as whole:
        serial(path, record_row_format())
    with pytest.raises(ImportFormatError) as in_part:
        in_parts(path, record_row_format(), encoding="utf-8", part_bytes=100, processes=2)
    assert str(in_part.value) == str(whole.value)
    assert in_part.value.line == whole.value.line
    assert "starts at line 301" in str(whole.value)  # 30 records of 10 lines before it


def test_records_without_er_and_skipped_records_keep_their_lines_across_parts(tmp_path):
    path = tmp_path / "quirks.ris"
    body = []
    for i in range(20):
        record = ris_record(f"Title {i}", doi=f"10.1/{i}")
        if i % 4 == 1:
            record = record.replace("ER  - \n", "")  # the next TY closes it
        if i % 5 == 2:
            record = record.replace(f"TI  - Title {i}\n", "").replace(f"DO  - 10.1/{i}\n", "")
        if i % 6 == 3:
            record += "NL  - Journal abbreviation\nLink to the Ovid Full Text or citation:\n"
        body.append(record)
    path.write_bytes("".join(body).encode("utf-8"))
    row_format = record_row_format()
    _encoding, expected, report = serial(path, row_format)
    assert report.skipped_count == 4
    for part_bytes in (1, 80, 200):
        rows, parts_report, _parts = in_parts(
            path, row_format, encoding="utf-8", part_bytes=part_bytes, processes=3
        )
        assert rows == expected
        assert [str(s) for s in parts_report.skipped] == [str(s) for s in report.skipped]


def test_a_bom_and_a_windows_1252_file_are_read_in_parts_as_whole(tmp_path):
    records = "".join(ris_record(f"Café {i} — naïve", doi=f"10.1/{i}") for i in range(25))
    for name, data in (
        ("bom.ris", b"\xef\xbb\xbf" + records.encode("utf-8")),
        ("cp1252.ris", records.encode("cp1252")),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        row_format = record_row_format()
        encoding, expected, _report = serial(path, row_format)
        assert encoding in ("utf-8-sig", "cp1252")
        rows, _report, _parts = in_parts(
            path, row_format, encoding=encoding, part_bytes=64, processes=2
        )
        assert rows == expected
        assert "Café 0 — naïve" in decode_copy_rows(rows, row_format)[0]


def test_utf16_is_not_cut():
    assert not parallel.splittable(Format.RIS, "utf-16")
    assert not parallel.splittable(Format.MEDLINE, "utf-8")


def test_a_worker_that_dies_is_reported_not_hidden(tmp_path):
    path = tmp_path / "gone.ris"
    path.write_bytes("".join(ris_record(f"T {i}", doi=f"10.1/{i}") for i in range(10)).encode())
    with path.open("rb") as fh:
        parts = list(parallel.iter_parts(fh, fmt=Format.RIS, part_bytes=1))
    missing = tmp_path / "missing.ris"  # the workers are told to read a file that is not there
    with (
        pytest.raises(
            parallel.WorkerFailed, match=r"exit code 1\): FileNotFoundError: .*missing.ris"
        ),
        parallel.PartsReader(
            missing,
            parts=parts,
            fmt=Format.RIS,
            encoding="utf-8",
            row_format=record_row_format(),
            processes=2,
            report=ImportReport(),
        ) as reader,
    ):
        list(reader)


def test_reports_of_parts_add_up_to_the_report_of_the_whole(monkeypatch):
    from identification.importers import api

    monkeypatch.setattr(api, "MAX_SKIP_REASONS", 3)
    whole, first, second = ImportReport(), ImportReport(), ImportReport()
    for line in range(1, 8):  # the second part goes over its own cap too
        whole.skip(line, "no title and no DOI")
        (first if line < 3 else second).skip(line, "no title and no DOI")
    whole.parsed, first.parsed, second.parsed = 10, 4, 6
    first.add(second)
    assert first.as_dict() == whole.as_dict()
    assert first.as_dict()["skipped"][-1] == "... and 4 more" and first.skipped_count == 7
