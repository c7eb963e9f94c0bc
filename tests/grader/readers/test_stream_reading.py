"""Reading an export whose bytes change under hw10: a clear error, never a traceback (grader/readers/csvfile.py)."""
import pytest


def test_a_file_that_changes_while_it_is_read_is_an_error_not_a_traceback(tmp_path):
    """The encoding is checked over the whole file first, then rows are read as they are used: bytes that turn
    invalid in between (someone saving over the export during the run) are refused with a clear message."""
    from grader.errors import InputError
    from grader.readers.csvfile import open_table

    path = tmp_path / "export.csv"
    path.write_bytes(b"id,name\n" + b"".join(b"%d,student %d\n" % (i, i) for i in range(20_000)))
    table = open_table(path)
    with open(path, "r+b") as f:  # the same file, changed in place far beyond what has been read so far
        f.seek(200_000)
        f.write(b"\xff\xfe\xfd")
    with pytest.raises(InputError, match="did it change while hw10 read it"):
        list(table.rows)
