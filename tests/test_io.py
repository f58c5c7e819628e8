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


def test_hadoops_glob_and_comma_rules_say_which_rule_applied_and_how_to_escape(tmp_path):
    import minimr
    (tmp_path / "data[1].txt").write_text("one\ntwo\n")
    (tmp_path / "a,b.txt").write_text("comma\n")
    (tmp_path / "x1.txt").write_text("x1\n")
    ctx = minimr.Context()
    with pytest.raises(minimr.MinimrError, match=r"matches 0 files .*a file of that very name "
                                                  r"exists: escape .*data\\\[1\\\]\.txt"):
        ctx.textFile(str(tmp_path / "data[1].txt"))
    assert ctx.textFile(str(tmp_path / "data\\[1\\].txt")).collect() == ["one", "two"]
    with pytest.raises(minimr.MinimrError, match=r"a comma separates input paths .*a\{\\,\}b\.txt"):
        ctx.textFile(str(tmp_path / "a,b.txt"))
    assert ctx.textFile(str(tmp_path / "a{\\,}b.txt")).collect() == ["comma"]
    assert ctx.textFile(str(tmp_path / "x[0-9].txt")).collect() == ["x1"]       # a real class
    assert sorted(ctx.textFile(f"{tmp_path}/x1.txt,{tmp_path}/a{{\\,}}b.txt").collect()) == \
        ["comma", "x1"]
    with pytest.raises(minimr.MinimrError, match="input path does not exist: .*nope.txt"):
        ctx.textFile(str(tmp_path / "nope.txt"))


@pytest.mark.spark
def test_escaped_paths_read_what_pyspark_reads(tmp_path, sc):
    (tmp_path / "data[1].txt").write_text("one\ntwo\n")
    (tmp_path / "a,b.txt").write_text("comma\n")
    import minimr
    ctx = minimr.Context()
    for path in (f"{tmp_path}/data\\[1\\].txt", f"{tmp_path}/a{{\\,}}b.txt",
                 f"{tmp_path}/data\\[1\\].txt,{tmp_path}/a{{\\,}}b.txt", f"{tmp_path}/a?b.txt"):
        assert ctx.textFile(path).collect() == sc.textFile(path).collect(), path
