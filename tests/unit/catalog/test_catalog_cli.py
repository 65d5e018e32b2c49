"""`athenaeum catalog import` reads the file before it sends anything: a line that is not UTF-8 is named (a
spreadsheet's CSV saved in Windows-1251 is the usual one), not met as a traceback halfway through."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from services.catalog import cli

NOWHERE = "127.0.0.1:9"  # nothing listens there: a command that called the edge would fail otherwise


def test_a_file_that_is_not_utf8_is_refused_by_its_line_before_anything_is_sent(tmp_path: Path) -> None:
    exported = tmp_path / "books.csv"
    russian = "Война и мир,Толстой"
    exported.write_bytes(f"title,authors\nWar and Peace,Tolstoy\n{russian}\n".encode("cp1251"))

    result = CliRunner().invoke(cli.app, ["import", str(exported), "--target", NOWHERE, "--token", "t"])

    assert result.exit_code == 2  # a bad parameter
    assert "line 3 is not UTF-8 text" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_rows_are_counted_as_csv_records_after_a_byte_order_mark(tmp_path: Path) -> None:
    exported = tmp_path / "books.csv"
    exported.write_bytes('\ufefftitle,description\nДюна,"two\nlines"\nSolaris,one\n'.encode())  # noqa: RUF001
    assert cli._data_rows(exported) == 2


def test_a_demo_written_where_no_file_can_be_is_refused_in_one_line(tmp_path: Path) -> None:
    for where in (tmp_path / "no" / "such" / "folder.csv", tmp_path):
        result = CliRunner().invoke(cli.app, ["demo", "--titles", "3", "--output", str(where)])
        assert result.exit_code == 2 and "cannot write there" in " ".join(result.output.split())
    written = tmp_path / "demo.csv"
    assert CliRunner().invoke(cli.app, ["demo", "--titles", "3", "--output", str(written)]).exit_code == 0
    assert cli._data_rows(written) == 3


def test_a_demo_larger_than_one_import_goes_in_parts(monkeypatch) -> None:
    from services.catalog.api import demo

    monkeypatch.setattr(demo, "TITLES_PER_IMPORT", 2)
    sent: list[list[tuple[int, str]]] = []

    def stream_import(header: str, records, *, total: int, **_: object) -> int:
        sent.append(list(records))
        assert header == demo.HEADER and len(sent[-1]) == total
        return 0

    monkeypatch.setattr(cli, "stream_import", stream_import)
    result = CliRunner().invoke(cli.app, ["demo", "--titles", "5", "--target", NOWHERE, "--token", "t"])

    assert result.exit_code == 0, result.output
    assert [len(part) for part in sent] == [2, 2, 1]
    assert [row for part in sent for row in part] == [(n + 2, row) for n, row in enumerate(demo.rows(5))]
