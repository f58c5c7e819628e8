"""Input splits and line reading (io.py), checked against Hadoop's rules by hand."""

import pytest

from minimr import io

pytestmark = pytest.mark.timeout(60)


def test_split_sizes_follow_file_input_format(tmp_path):
    f = tmp_path / "f.txt"
    f.write_bytes(b"x" * 100)
    # goal = 100 // 3 = 33; the last split may be up to 10% larger: 33, 33, 34
    assert [(s.start, s.length) for s in io.get_splits([str(f)], 3)] == [(0, 33), (33, 33), (66, 34)]
    assert [(s.start, s.length) for s in io.get_splits([str(f)], 1)] == [(0, 100)]
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert io.get_splits([str(empty)], 4) == []      # Spark drops empty splits


def test_line_on_boundary_belongs_to_earlier_split(tmp_path):
    f = tmp_path / "f.txt"
    f.write_bytes(b"aaaa\nbbbb\ncccc\n")           # lines start at 0, 5, 10
    first = io.FileSplit(str(f), 0, 5)            # covers bytes 0..5: "bbbb" starts at 5
    second = io.FileSplit(str(f), 5, 10)
    assert list(io.read_split(first)) == ["aaaa", "bbbb"]
    assert list(io.read_split(second)) == ["cccc"]


def test_split_in_middle_of_line_and_crlf(tmp_path):
    f = tmp_path / "f.txt"
    f.write_bytes(b"ab\r\ncd\ref\ngh")
    data = f.read_bytes()
    for cut in range(1, len(data)):
        a = list(io.read_split(io.FileSplit(str(f), 0, cut)))
        b = list(io.read_split(io.FileSplit(str(f), cut, len(data) - cut)))
        assert a + b == ["ab", "cd", "ef", "gh"], cut


def test_every_terminator_and_empty_lines(tmp_path):
    f = tmp_path / "f.txt"
    f.write_bytes(b"a\r\nbb\r\n\r\nccc\rd")
    assert list(io.read_split(io.FileSplit(str(f), 0, f.stat().st_size))) == ["a", "bb", "", "ccc", "d"]


def test_every_cut_of_random_text_reads_each_line_once(tmp_path):
    """Cut a file into two splits at every byte: together they read exactly the lines
    of bytes.splitlines (\\n, \\r\\n and \\r), each once."""
    import random
    rng = random.Random(3)
    data = bytes(rng.choice(b"ab\r\n") for _ in range(300))
    f = tmp_path / "f.txt"
    f.write_bytes(data)
    want = [line.decode() for line in data.splitlines()]
    for cut in range(1, len(data)):
        a = list(io.read_split(io.FileSplit(str(f), 0, cut)))
        b = list(io.read_split(io.FileSplit(str(f), cut, len(data) - cut)))
        assert a + b == want, cut
